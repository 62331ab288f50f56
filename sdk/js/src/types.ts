/**
 * The objects the API returns, as plain JSON (newer servers may add fields; they are kept, never dropped).
 * Field names are the API's own (snake_case), as in the Python SDK and OpenAI's SDKs.
 */

export type AudioFormat = "mp3" | "wav" | "ogg" | "flac" | "opus" | "aac" | "pcm";
export type Emotion = "neutral" | "happy" | "sad" | "angry";
export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "canceled";
export type JobKind = "tts" | "stt" | "clone" | "design" | "vc";
export type TimestampGranularity = "word" | "segment";
export type ChannelMode = "mix" | "split";
export type JsonFormat = "json" | "verbose_json" | "diarized_json";
export type TextFormat = "text" | "srt" | "vtt" | "rttm";
export type TranscriptionFormat = JsonFormat | TextFormat;
export type TranslationFormat = "json" | "verbose_json" | "text" | "srt" | "vtt";

export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ["succeeded", "failed", "canceled"];
export const TEXT_FORMATS: readonly string[] = ["text", "srt", "vtt", "rttm"];

// --- transcriptions -----------------------------------------------------------------------------------------
export interface Word {
  start: number;
  end: number;
  word: string;
  probability?: number | null;
  speaker?: string | null;
}

export interface Segment {
  id?: number;
  start: number;
  end: number;
  text: string;
  speaker?: string | null;
  channel?: number | null;
  words?: Word[] | null;
  /** verbose_json only */
  seek?: number;
  tokens?: number[];
  temperature?: number | null;
  avg_logprob?: number | null;
  compression_ratio?: number | null;
  no_speech_prob?: number | null;
  /** diarized_json only */
  type?: string;
}

export interface SpeakerSummary {
  id: string;
  speaking_seconds: number;
  [key: string]: unknown;
}

/** Speech to text (json, verbose_json and diarized_json): the text, the language, the duration and timed
 * segments (with speakers when diarization was asked for); `words` holds word timestamps when asked for. */
export interface Transcription {
  text: string;
  task?: string;
  language?: string | null;
  language_probability?: number | null;
  duration?: number | null;
  segments: Segment[];
  words?: Word[] | null;
  speakers?: SpeakerSummary[] | null;
  coverage?: number | null;
}

export interface SpeakerTurn {
  start: number;
  end: number;
  speaker: string;
}

/** Who spoke when (POST /v1/audio/diarization): turns of different speakers may overlap. */
export interface Diarization {
  duration: number;
  speakers: SpeakerSummary[];
  turns: SpeakerTurn[];
  diarization?: string | null;
}

/** Events of `client.audio.transcriptions.stream(...)`. */
export interface TranscriptTextDeltaEvent {
  type: "transcript.text.delta";
  /** The new text (with a leading space after the first segment). */
  delta: string;
  segment: Segment;
}

export interface TranscriptTextDoneEvent extends Partial<Transcription> {
  type: "transcript.text.done";
  text: string;
  job_id: string;
}

export type TranscriptionStreamEvent = TranscriptTextDeltaEvent | TranscriptTextDoneEvent;

/** Events of `client.audio.speech.stream(...)` (`stream_format=sse`). */
export interface SpeechAudioDeltaEvent {
  type: "speech.audio.delta";
  /** base64 audio bytes, in order. */
  audio: string;
}

export interface SpeechAudioDoneEvent {
  type: "speech.audio.done";
  job_id: string;
  usage: { input_characters: number; duration: number };
}

export type SpeechStreamEvent = SpeechAudioDeltaEvent | SpeechAudioDoneEvent;

// --- voice conversions (speech to speech) -------------------------------------------------------------------
/** One phrase of a converted recording: what was said (or its English translation) in which voice, where in the
 * source it was and where it was placed in the output. */
export interface Phrase {
  /** Seconds into the output where the phrase starts (its source start). */
  start: number;
  end: number;
  source_start: number;
  source_end: number;
  /** What the voice says (English when dubbing). */
  text: string;
  speaker?: string | null;
  /** The voice that speaks it, as the request named it. */
  voice: string;
  /** Time-stretch applied to fit the source span (1: none; above 1: faster). */
  tempo: number;
}

/** What a finished conversion produced (`job.result` of a `vc` job; the audio is the job's result download). */
export interface VoiceConversionResult {
  /** Seconds of output audio. */
  duration: number;
  /** Seconds of input audio (what is billed). */
  input_duration: number;
  sample_rate: number;
  format: AudioFormat;
  bytes: number;
  sha256?: string | null;
  /** `revoice`: words re-spoken (prosody not carried over); `tone-color`: timbre converted. */
  method: "revoice" | "tone-color";
  /** Language of the input (detected or given). */
  language?: string | null;
  target_language?: string | null;
  /** Speaker -> the voice that speaks for them. */
  voices: Record<string, string>;
  /** voices=auto: each speaker's median pitch (Hz). */
  pitches?: Record<string, number>;
  phrases: Phrase[];
  /** What the output says with its times (`client.jobs.transcription(id, { response_format: "srt" })`). */
  transcript?: Transcription | null;
  processing_seconds?: number | null;
}

/** Events of `client.audio.voiceConversions.stream(...)` (`stream_format=sse`). */
export interface ConversionAudioDeltaEvent {
  type: "conversion.audio.delta";
  /** base64 audio bytes, in order. */
  audio: string;
}

export interface ConversionAudioDoneEvent {
  type: "conversion.audio.done";
  job_id: string;
  usage: { input_seconds: number; duration: number };
  /** What the output says. */
  text?: string | null;
}

export type VoiceConversionStreamEvent = ConversionAudioDeltaEvent | ConversionAudioDoneEvent;

// --- jobs ---------------------------------------------------------------------------------------------------
export interface JobError {
  code: string;
  message: string;
}

/** A background synthesis, transcription, cloning or design job. */
export interface Job {
  id: string;
  object: "job";
  kind: JobKind | string;
  model: string;
  status: JobStatus;
  /** 0-1; how much of the job is done. */
  progress: number;
  attempts: number;
  created_at: string;
  started_at?: string | null;
  finished_at?: string | null;
  error?: JobError | null;
  /** The transcription of a speech-to-text job; audio metadata of a synthesis job; the enrolled voice; a voice
   * conversion's phrases (VoiceConversionResult). */
  result?: Transcription | VoiceConversionResult | Record<string, unknown> | null;
  result_url?: string | null;
  presigned_url?: string | null;
}

export interface CursorPage<T> {
  object: "list";
  data: T[];
  has_more: boolean;
  first_id?: string | null;
  last_id?: string | null;
}

/** A page of jobs, newest first; `has_more` with `last_id` fetch the next one (`after: last_id`). */
export type JobList = CursorPage<Job>;

// --- voices -------------------------------------------------------------------------------------------------
export interface VoiceSample {
  name: string;
  seconds: number;
  file_id?: string | null;
}

export interface VoiceConsent {
  type: string;
  given_at?: string;
  statement?: string | null;
  [key: string]: unknown;
}

/** A cloned (or designed) voice; use its `id` as the `voice` of speech requests. */
export interface Voice {
  id: string;
  object: "voice";
  name: string;
  model: string;
  language?: string | null;
  status: "processing" | "ready" | "failed";
  created_at: string;
  warnings: string[];
  /** Why enrollment failed. */
  error?: string | null;
  /** The enrollment job (see client.jobs). */
  job_id?: string | null;
  description?: string | null;
  labels: Record<string, string>;
  samples: VoiceSample[];
  consent?: VoiceConsent | null;
  preview_url?: string | null;
  /** The models that can speak it. */
  models: string[];
  type: "cloned" | "designed";
  /** A designed voice's stock voice or blend. */
  preset?: string | null;
}

/** A preset voice that comes with a model (e.g. `joe` of `piper`). */
export interface PresetVoice {
  id: string;
  object: "voice";
  model: string;
  name: string;
  preset: true;
  language?: string | null;
  labels: Record<string, string>;
  aliases: string[];
}

export interface VoiceList extends CursorPage<Voice> {
  /** Preset voices of the models live workers serve. */
  presets: PresetVoice[];
}

export interface VoiceDeleted {
  id: string;
  object: "voice";
  deleted: boolean;
}

// --- models -------------------------------------------------------------------------------------------------
export interface ModelPrices {
  per_1k_characters?: number | null;
  per_audio_second?: number | null;
  per_clone?: number | null;
}

/** A model the server knows; `installed` says whether it has the weights, `install_hint` how to get them. */
export interface Model {
  id: string;
  object: "model";
  kind: "tts" | "stt" | "diarization" | string;
  family?: string | null;
  description?: string | null;
  installed: boolean;
  /** Whether a live worker serves it now (requests for it can run). */
  live?: boolean;
  bundled?: boolean;
  languages: string[];
  voices: string[];
  /** Per preset voice: its `language`, `accent` and `gender`, where known. */
  voice_labels?: Record<string, Record<string, string>>;
  /** This id is a configured alias of that model, which serves it. */
  alias_of?: string | null;
  can_clone: boolean;
  emotions: boolean;
  /** Output arrives while the job runs (`stream=true`). */
  streaming?: boolean;
  install_hint?: string | null;
  prices?: ModelPrices | null;
  [key: string]: unknown;
}

export interface ModelList {
  object: "list";
  data: Model[];
}

// --- account, keys, usage -----------------------------------------------------------------------------------
export interface RateLimits {
  /** Requests per minute; 0 is unlimited. */
  requests_per_minute: number;
  /** Queued plus running jobs at once; 0 is unlimited. */
  max_concurrent_jobs: number;
}

export interface ApiKey {
  id: string;
  object: "api_key";
  account_id: string;
  name: string;
  /** The key's visible part: keys look like `s2s-<prefix>-<secret>`. */
  prefix: string;
  created_at: string;
  revoked_at?: string | null;
  requests_per_minute?: number | null;
  max_concurrent_jobs?: number | null;
}

/** The answer to `account.keys.create`: the only time the secret `key` is shown. */
export interface ApiKeyCreated extends ApiKey {
  key: string;
}

export interface ApiKeyList {
  object: "list";
  data: ApiKey[];
}

export interface Account {
  id: string;
  object: "account";
  name: string;
  /** Credits available for new jobs. */
  balance: number;
  /** Credits held by queued and running jobs. */
  reserved: number;
  active_jobs: number;
  limits: RateLimits;
  key: ApiKey;
  created_at: string;
}

export interface UsageDay {
  /** YYYY-MM-DD (UTC). */
  date: string;
  model: string;
  kind: JobKind;
  requests: number;
  succeeded: number;
  characters: number;
  audio_seconds: number;
  credits: number;
}

export interface UsageTotals {
  requests: number;
  succeeded: number;
  characters: number;
  audio_seconds: number;
  credits: number;
}

export interface Usage {
  object: "usage";
  start: string;
  end: string;
  /** One row per day and model, oldest first. */
  data: UsageDay[];
  totals: UsageTotals;
}

// --- files, batches, webhooks -------------------------------------------------------------------------------
export type FilePurpose = "batch" | "audio" | "batch_output";
export type BatchEndpoint = "/v1/audio/speech" | "/v1/audio/transcriptions" | "/v1/voices/clone";
export type BatchStatus =
  "validating" | "in_progress" | "finalizing" | "completed" | "failed" | "expired" | "cancelling" | "cancelled";
export type BatchItemStatus = "pending" | "queued" | "running" | "succeeded" | "failed" | "canceled" | "expired";
export const TERMINAL_BATCH_STATUSES: readonly BatchStatus[] = ["completed", "failed", "expired", "cancelled"];

/** An uploaded file (`file-...`): batch input (JSONL), audio to use by `file_id`, or a batch's output. */
export interface FileObject {
  id: string;
  object: "file";
  bytes: number;
  /** Unix seconds. */
  created_at: number;
  filename: string;
  purpose: FilePurpose | string;
  status?: string;
  expires_at?: number | null;
  audio_seconds?: number | null;
}

export type FileList = CursorPage<FileObject>;

export interface FileDeleted {
  id: string;
  object: "file";
  deleted: boolean;
}

export interface BatchLineError {
  code: string;
  line?: number | null;
  message: string;
  param?: string | null;
}

export interface BatchRequestCounts {
  total: number;
  completed: number;
  failed: number;
  canceled?: number;
  queued?: number;
  running?: number;
}

/** A batch of requests to one endpoint (`batch_...`); its items are ordinary jobs. */
export interface Batch {
  id: string;
  object: "batch";
  endpoint: string;
  status: BatchStatus;
  errors?: { object: "list"; data: BatchLineError[] } | null;
  input_file_id?: string | null;
  completion_window: string;
  output_file_id?: string | null;
  error_file_id?: string | null;
  created_at: number;
  in_progress_at?: number | null;
  expires_at?: number | null;
  finalizing_at?: number | null;
  completed_at?: number | null;
  failed_at?: number | null;
  expired_at?: number | null;
  cancelling_at?: number | null;
  cancelled_at?: number | null;
  request_counts: BatchRequestCounts;
  metadata?: Record<string, string> | null;
  max_concurrency?: number | null;
  manifest_key?: string | null;
}

export type BatchList = CursorPage<Batch>;

/** One request of a batch: its line, its job and how it ended. */
export interface BatchItem {
  id: string;
  object: "batch.item";
  custom_id: string;
  line: number;
  status: BatchItemStatus;
  job_id?: string | null;
  error?: JobError | null;
  result_url?: string | null;
}

export type BatchItemList = CursorPage<BatchItem>;

export interface WebhookEndpoint {
  id: string;
  object: "webhook_endpoint";
  url: string;
  events: string[];
  description: string;
  enabled: boolean;
  disabled_reason?: string | null;
  default_for_requests: boolean;
  created_at?: string | null;
  /** Only in the create and rotate_secret answers. */
  secret?: string | null;
}

export interface WebhookEndpointList {
  object: "list";
  data: WebhookEndpoint[];
}

export interface WebhookDelivery {
  /** `msg_...`: the `webhook-id` header of every attempt. */
  id: string;
  object: "webhook_delivery";
  endpoint_id?: string | null;
  url: string;
  event_type: string;
  status: "pending" | "sending" | "succeeded" | "failed";
  attempts: number;
  next_attempt_at?: string | null;
  last_status_code?: number | null;
  last_error?: string | null;
  created_at?: string | null;
  delivered_at?: string | null;
}

export type WebhookDeliveryList = CursorPage<WebhookDelivery>;

/** A verified webhook: `type` (e.g. `batch.completed`), `timestamp` and thin `data` (ids, status, URLs). */
export interface WebhookEvent {
  id: string;
  type: string;
  timestamp?: string | null;
  data: Record<string, unknown>;
}
