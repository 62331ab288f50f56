// The shapes of the API's answers the playground reads are the JS SDK's own (sdk/js/src/types.ts).
export type {
  Account,
  ApiKey,
  Job,
  JobError,
  Model,
  PresetVoice,
  Segment,
  Transcription,
  Usage,
  UsageDay,
  Voice,
  Word,
} from "speechtospeechai";

/** What /playground/config.json says about this server (api/routes/web.py); not an API answer, so not in the SDK. */
export interface ServerConfig {
  max_input_chars: number;
  max_upload_bytes: number;
  clone_consent: "none" | "attestation" | "recording";
  consent_phrase: string;
}
