// The shapes of the API's answers the playground reads (shared/schemas.py, shared/transcripts.py).
export interface Model {
  id: string;
  kind: "tts" | "stt" | "diarization";
  family: string;
  description: string;
  live: boolean;
  installed: boolean;
  languages: string[];
  voices: string[];
  voice_labels?: Record<string, Record<string, string>>;
  can_clone: boolean;
  emotions: boolean;
  streaming: boolean;
  alias_of?: string | null;
  prices: { per_1k_characters?: number | null; per_audio_second?: number | null; per_clone?: number | null };
}

export interface Voice {
  id: string;
  name: string;
  model: string;
  language?: string | null;
  status: "processing" | "ready" | "failed";
  created_at: string;
  warnings: string[];
  error?: string | null;
  job_id?: string | null;
  preview_url?: string | null;
  models: string[];
  type?: string;
}

export interface PresetVoice {
  id: string;
  model: string;
  name: string;
  language?: string | null;
}

export interface JobError {
  code: string;
  message: string;
}

export interface Job {
  id: string;
  kind: "tts" | "stt" | "clone" | "design";
  model: string;
  status: "queued" | "running" | "succeeded" | "failed" | "canceled";
  progress: number;
  created_at: string;
  finished_at?: string | null;
  error?: JobError | null;
  result?: unknown;
}

export interface Word {
  start: number;
  end: number;
  word: string;
  speaker?: string | null;
}

export interface Segment {
  id: number;
  start: number;
  end: number;
  text: string;
  speaker?: string | null;
  words?: Word[] | null;
}

export interface Transcription {
  text: string;
  language?: string | null;
  duration?: number | null;
  segments: Segment[];
  words?: Word[] | null;
  speakers?: { id: string; speaking_seconds: number }[] | null;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  created_at: string;
  revoked_at?: string | null;
  requests_per_minute?: number | null;
  max_concurrent_jobs?: number | null;
}

export interface Account {
  id: string;
  name: string;
  balance: number;
  reserved: number;
  active_jobs: number;
  limits: { requests_per_minute: number; max_concurrent_jobs: number };
  key: ApiKey;
}

export interface UsageDay {
  date: string;
  model: string;
  kind: string;
  requests: number;
  succeeded: number;
  characters: number;
  audio_seconds: number;
  credits: number;
}

export interface Usage {
  start: string;
  end: string;
  data: UsageDay[];
  totals: Omit<UsageDay, "date" | "model" | "kind">;
}

/** What /playground/config.json says about this server (api/routes/web.py). */
export interface ServerConfig {
  max_input_chars: number;
  max_upload_bytes: number;
  clone_consent: "none" | "attestation" | "recording";
  consent_phrase: string;
}
