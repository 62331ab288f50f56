/**
 * `client.audio.speech` (`POST /v1/audio/speech`), `client.audio.transcriptions` (`POST /v1/audio/transcriptions`),
 * `client.audio.translations`, `client.audio.diarization` and `client.audio.voiceConversions`
 * (`POST /v1/audio/voice-conversions`: speech to speech).
 *
 * With `wait: true` (the default) a call resolves with the audio or the transcription, also when the server
 * answers 202 because the job outlived its synchronous wait: the SDK then polls the job and fetches its result.
 * With `wait: false` the server answers 202 at once and the call resolves with the `Job`.
 */

import type { Client } from "../client.js";
import { APIResource, parseJSON, type RequestOptions } from "../core.js";
import { JobFailedError } from "../errors.js";
import { SpeechResponse } from "../response.js";
import { EventStream } from "../streaming.js";
import { dataURL, type Uploadable } from "../uploads.js";
import type {
  AudioFormat,
  ChannelMode,
  Diarization,
  Emotion,
  Job,
  JsonFormat,
  SpeechStreamEvent,
  TextFormat,
  TimestampGranularity,
  Transcription,
  TranscriptionFormat,
  TranscriptionStreamEvent,
  TranslationFormat,
  VoiceConversionResult,
  VoiceConversionStreamEvent,
} from "../types.js";
import { parseTranscription } from "./jobs.js";

// --- speech ---------------------------------------------------------------------------------------------------
export interface SpeechCreateParams {
  /** TTS model id, e.g. `piper`, `kokoro` or `fish-speech-v1.5`. */
  model: string;
  /** A preset voice (`joe`) or a cloned voice id (`voice_...`). */
  voice: string;
  /** The text to speak. */
  input: string;
  /** 0.5-2.0. */
  speed?: number;
  /** mp3 (default), wav, ogg, flac, opus, aac or pcm. */
  response_format?: AudioFormat;
  /** Same as `response_format` (the API's own name). */
  format?: AudioFormat;
  emotion?: Emotion;
  instructions?: string;
  language?: string;
  /** The server streams the audio as it is synthesised (its default for every format but wav); `false` sends the
   * whole file at once. */
  stream?: boolean;
  /** Also send this job's `job.*` webhook event here. */
  webhook_url?: string;
  /** `false`: resolve with the queued Job at once. Default true. */
  wait?: boolean;
  /** More body fields, sent as they are. */
  extra_body?: Record<string, unknown>;
}

// --- transcriptions -------------------------------------------------------------------------------------------
/** Known speakers: voice ids of the library (an array), or name -> a short recording of that speaker (an object,
 * sent as OpenAI's known_speaker_names[] / known_speaker_references[] data URLs). */
export type KnownSpeakers = readonly string[] | Record<string, Uploadable>;

interface TranscriptionCommon {
  /** The audio or video (Blob, File, bytes, `{ data, name }`, or a path in Node); or give `file_id`. */
  file?: Uploadable;
  /** An uploaded file (purpose `audio`) instead of `file`. */
  file_id?: string;
  /** STT model id (server default: whisper-base). */
  model?: string;
  /** ISO 639-1; detected when unset. */
  language?: string;
  /** Label segments and words with speakers. */
  diarization?: boolean;
  /** Same as `diarization`. */
  diarize?: boolean;
  num_speakers?: number;
  min_speakers?: number;
  max_speakers?: number;
  /** mix (default): downmix; split: transcribe each channel apart. */
  channels?: ChannelMode;
  timestamps?: TimestampGranularity;
  /** OpenAI's name; word timestamps come with their segments. */
  timestamp_granularities?: readonly TimestampGranularity[];
  prompt?: string;
  temperature?: number;
  known_speakers?: KnownSpeakers;
  chinese_script?: "simplified" | "traditional";
  webhook_url?: string;
  extra_body?: Record<string, unknown>;
}

export interface TranscriptionCreateParams extends TranscriptionCommon {
  /** json (default), verbose_json or diarized_json resolve with a Transcription; text, srt, vtt and rttm with a
   * string. */
  response_format?: TranscriptionFormat;
  /** `false`: resolve with the queued Job at once. Default true. */
  wait?: boolean;
}

export interface TranscriptionStreamParams extends TranscriptionCommon {
  /** json (default) puts the whole transcription in the `transcript.text.done` event. */
  response_format?: TranscriptionFormat;
}

export interface TranslationCreateParams {
  file?: Uploadable;
  file_id?: string;
  model?: string;
  prompt?: string;
  response_format?: TranslationFormat;
  temperature?: number;
  webhook_url?: string;
  extra_body?: Record<string, unknown>;
}

export interface DiarizationCreateParams {
  file?: Uploadable;
  file_id?: string;
  model?: string;
  response_format?: "json" | "rttm";
  num_speakers?: number;
  min_speakers?: number;
  max_speakers?: number;
  known_speakers?: KnownSpeakers;
  webhook_url?: string;
  extra_body?: Record<string, unknown>;
}

// --- voice conversions ----------------------------------------------------------------------------------------
interface VoiceConversionCommon {
  /** The speech to convert (Blob, File, bytes, `{ data, name }`, or a path in Node); or give `file_id`. */
  file?: Uploadable;
  /** An uploaded file (purpose `audio`) instead of `file`. */
  file_id?: string;
  /** The target voice: a preset (`af_bella`, `nova`) or a cloned voice id (`voice_...`); with diarization, the
   * voice of every speaker `voices` does not name. */
  voice?: string;
  /** With diarization: speaker -> voice (`{ SPEAKER_00: "af_bella" }`, sent as JSON), or `auto` (distinct preset
   * voices picked by each speaker's pitch). */
  voices?: Record<string, string> | "auto";
  /** `revoice` (server default: the words re-spoken by a TTS voice) or `openvoice-v2` (tone-colour conversion). */
  model?: string;
  /** revoice: the TTS model that speaks (default: the model whose voice `voice` names). */
  tts_model?: string;
  /** Find the speakers and give each one its own voice (`voices`). */
  diarization?: boolean;
  num_speakers?: number;
  min_speakers?: number;
  max_speakers?: number;
  /** Language of the input (ISO 639-1); detected when unset. */
  language?: string;
  /** `en`: dub into English (translated, re-spoken on the source's timeline). */
  target_language?: "en";
  /** mp3 (default), wav, ogg, flac, opus, aac or pcm. */
  response_format?: AudioFormat;
  /** Output sample rate in Hz (8000-48000; default: the voice's own). */
  sample_rate?: number;
  /** Also send this job's `job.*` webhook event here. */
  webhook_url?: string;
  /** More form fields, sent as they are. */
  extra_body?: Record<string, unknown>;
}

export interface VoiceConversionCreateParams extends VoiceConversionCommon {
  /** The server sends the audio phrase by phrase as it is produced (`stream()` reads it as it arrives). */
  stream?: boolean;
  /** `false`: resolve with the queued Job at once. Default true. */
  wait?: boolean;
  /** `true`: the same as `wait: false` (the API's own name). */
  async?: boolean;
}

export type VoiceConversionStreamParams = VoiceConversionCommon;

function conversionForm(params: VoiceConversionCommon, extra: Record<string, unknown>): Record<string, unknown> {
  if (typeof params.voices === "string" && params.voices !== "auto") {
    throw new TypeError('voices is an object of speaker -> voice, or "auto".');
  }
  return {
    file_id: params.file_id,
    voice: params.voice,
    voices: params.voices,
    model: params.model,
    tts_model: params.tts_model,
    diarization: params.diarization,
    num_speakers: params.num_speakers,
    min_speakers: params.min_speakers,
    max_speakers: params.max_speakers,
    language: params.language,
    target_language: params.target_language,
    response_format: params.response_format,
    sample_rate: params.sample_rate,
    webhook_url: params.webhook_url,
    ...extra,
    ...(params.extra_body ?? {}),
  };
}

async function knownSpeakerFields(known: KnownSpeakers | undefined): Promise<Record<string, unknown>> {
  if (!known) return {};
  if (typeof known === "string") {
    throw new TypeError("known_speakers is an array of voice ids or an object of name -> recording, not a string.");
  }
  if (Array.isArray(known)) return known.length ? { known_speakers: [...known] } : {};
  const entries = Object.entries(known as Record<string, Uploadable>);
  if (!entries.length) return {};
  return {
    "known_speaker_names[]": entries.map(([name]) => name),
    "known_speaker_references[]": await Promise.all(entries.map(([, recording]) => dataURL(recording))),
  };
}

function uploadFiles(file: Uploadable | undefined, fileId: string | undefined): [string, Uploadable][] {
  if (file === undefined && !fileId) {
    throw new TypeError("Pass the audio as file (a Blob, File, bytes, { data, name } or a path) or file_id.");
  }
  return file === undefined ? [] : [["file", file]];
}

/** POST `form` to `path` with the audio: `params.file` as an upload, or the form's `file_id`. */
function postAudio(
  client: Client,
  path: string,
  params: { file?: Uploadable; file_id?: string },
  form: Record<string, unknown>,
  options: RequestOptions | undefined,
  stream = false,
): Promise<Response> {
  const files = uploadFiles(params.file, params.file_id);
  return client.request({ method: "POST", path, form, files, stream, options });
}

/** The job of a 202 answer; with `wait`, once it has succeeded (JobFailedError if it failed or was canceled). */
async function acceptedJob(
  client: Client,
  response: Response,
  wait: boolean,
  options: RequestOptions | undefined,
): Promise<Job> {
  const job = await parseJSON<Job>(response, "job");
  if (wait) await client.jobs.waitForSuccess(job.id, { signal: options?.signal });
  return job;
}

async function transcriptionForm(
  params: TranscriptionCommon & { response_format?: string },
  extra: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  let timestamps = params.timestamps;
  if (timestamps === undefined && params.timestamp_granularities?.length) {
    // the server takes one granularity; word timestamps come with their segments
    timestamps = params.timestamp_granularities.includes("word") ? "word" : "segment";
  }
  return {
    model: params.model,
    file_id: params.file_id,
    language: params.language,
    diarization: params.diarization ?? params.diarize,
    num_speakers: params.num_speakers,
    min_speakers: params.min_speakers,
    max_speakers: params.max_speakers,
    channels: params.channels,
    timestamps,
    response_format: params.response_format,
    prompt: params.prompt,
    temperature: params.temperature,
    chinese_script: params.chinese_script,
    webhook_url: params.webhook_url,
    ...(await knownSpeakerFields(params.known_speakers)),
    ...extra,
    ...(params.extra_body ?? {}),
  };
}

/** Text to speech. */
export class Speech extends APIResource<Client> {
  private body(params: SpeechCreateParams, extra: Record<string, unknown>): Record<string, unknown> {
    if (params.format && params.response_format && params.format !== params.response_format) {
      throw new TypeError(
        `format '${params.format}' and response_format '${params.response_format}' disagree; pass one of them.`,
      );
    }
    return {
      model: params.model,
      voice: params.voice,
      input: params.input,
      speed: params.speed,
      format: params.format ?? params.response_format,
      emotion: params.emotion,
      instructions: params.instructions,
      language: params.language,
      stream: params.stream,
      webhook_url: params.webhook_url,
      ...extra,
      ...(params.extra_body ?? {}),
    };
  }

  /** Speak `input` with `voice` of `model`. Resolves once the response starts: `stream()` (or iterating the
   * result, or `save(path)` in Node) reads the audio as the server synthesises it; `arrayBuffer()` and `blob()`
   * wait for all of it. `wait: false` resolves with the queued Job instead. */
  create(params: SpeechCreateParams & { wait: false }, options?: RequestOptions): Promise<Job>;
  create(params: SpeechCreateParams & { wait?: true }, options?: RequestOptions): Promise<SpeechResponse>;
  create(params: SpeechCreateParams, options?: RequestOptions): Promise<SpeechResponse | Job>;
  async create(params: SpeechCreateParams, options?: RequestOptions): Promise<SpeechResponse | Job> {
    const wait = params.wait ?? true;
    const response = await this._client.request({
      method: "POST",
      path: "audio/speech",
      json: this.body(params, wait ? {} : { async: true }),
      stream: true,
      options,
    });
    if (response.status === 202) {
      const job = await acceptedJob(this._client, response, wait, options);
      return wait ? this._client.jobs.result(job.id, {}, options) : job;
    }
    return new SpeechResponse(response);
  }

  /** The audio as Server-Sent Events (`stream_format=sse`): `speech.audio.delta` events with base64 audio, then
   * `speech.audio.done` with the job id and usage. */
  stream(
    params: Omit<SpeechCreateParams, "wait" | "stream">,
    options?: RequestOptions,
  ): EventStream<SpeechStreamEvent> {
    return new EventStream<SpeechStreamEvent>(() =>
      this._client.request({
        method: "POST",
        path: "audio/speech",
        json: this.body(params, { stream_format: "sse" }),
        stream: true,
        options: { ...options, headers: { Accept: "text/event-stream", ...(options?.headers ?? {}) } },
      }),
    );
  }
}

/** Speech to text. */
export class Transcriptions extends APIResource<Client> {
  /** Transcribe `file`. `response_format` json (default), verbose_json or diarized_json resolve with a
   * Transcription; text, srt, vtt and rttm with a string. `wait: false` resolves with the queued Job. */
  create(params: TranscriptionCreateParams & { wait: false }, options?: RequestOptions): Promise<Job>;
  create(
    params: TranscriptionCreateParams & { response_format: TextFormat; wait?: true },
    options?: RequestOptions,
  ): Promise<string>;
  create(
    params: TranscriptionCreateParams & { response_format?: JsonFormat; wait?: true },
    options?: RequestOptions,
  ): Promise<Transcription>;
  create(params: TranscriptionCreateParams, options?: RequestOptions): Promise<Transcription | string | Job>;
  async create(params: TranscriptionCreateParams, options?: RequestOptions): Promise<Transcription | string | Job> {
    const wait = params.wait ?? true;
    const form = await transcriptionForm(params, wait ? {} : { async: true });
    const response = await postAudio(this._client, "audio/transcriptions", params, form, options);
    if (response.status === 202) {
      const job = await acceptedJob(this._client, response, wait, options);
      return wait ? this._client.jobs.transcription(job.id, { response_format: params.response_format }, options) : job;
    }
    return parseTranscription(response, params.response_format);
  }

  /** Transcribe `file` as Server-Sent Events (`stream=true`): a `transcript.text.delta` event per segment as it is
   * decoded, then `transcript.text.done` with the whole text (and, for json, the whole transcription). */
  stream(params: TranscriptionStreamParams, options?: RequestOptions): EventStream<TranscriptionStreamEvent> {
    return new EventStream<TranscriptionStreamEvent>(async () => {
      const form = await transcriptionForm(params, { stream: true });
      const headers = { Accept: "text/event-stream", ...(options?.headers ?? {}) };
      return postAudio(this._client, "audio/transcriptions", params, form, { ...options, headers }, true);
    });
  }
}

/** Speech in any language to English text (OpenAI's audio.translations). */
export class Translations extends APIResource<Client> {
  /** json and verbose_json resolve with a Transcription (its `language` is the source language); text, srt and
   * vtt with a string. A long file answered 202 is waited for. */
  create(
    params: TranslationCreateParams & { response_format: "text" | "srt" | "vtt" },
    options?: RequestOptions,
  ): Promise<string>;
  create(
    params: TranslationCreateParams & { response_format?: "json" | "verbose_json" },
    options?: RequestOptions,
  ): Promise<Transcription>;
  create(params: TranslationCreateParams, options?: RequestOptions): Promise<Transcription | string>;
  async create(params: TranslationCreateParams, options?: RequestOptions): Promise<Transcription | string> {
    const form = {
      model: params.model,
      file_id: params.file_id,
      prompt: params.prompt,
      response_format: params.response_format,
      temperature: params.temperature,
      webhook_url: params.webhook_url,
      ...(params.extra_body ?? {}),
    };
    const response = await postAudio(this._client, "audio/translations", params, form, options);
    if (response.status === 202) {
      const job = await acceptedJob(this._client, response, true, options);
      return this._client.jobs.transcription(job.id, { response_format: params.response_format }, options);
    }
    return parseTranscription(response, params.response_format);
  }
}

/** Who spoke when, without a transcript. */
export class DiarizationResource extends APIResource<Client> {
  /** Speaker turns of `file`: a Diarization (json), or the RTTM text (`response_format: "rttm"`). */
  create(params: DiarizationCreateParams & { response_format: "rttm" }, options?: RequestOptions): Promise<string>;
  create(
    params: DiarizationCreateParams & { response_format?: "json" },
    options?: RequestOptions,
  ): Promise<Diarization>;
  create(params: DiarizationCreateParams, options?: RequestOptions): Promise<Diarization | string>;
  async create(params: DiarizationCreateParams, options?: RequestOptions): Promise<Diarization | string> {
    const form = {
      model: params.model,
      file_id: params.file_id,
      response_format: params.response_format,
      num_speakers: params.num_speakers,
      min_speakers: params.min_speakers,
      max_speakers: params.max_speakers,
      webhook_url: params.webhook_url,
      ...(await knownSpeakerFields(params.known_speakers)),
      ...(params.extra_body ?? {}),
    };
    let response = await postAudio(this._client, "audio/diarization", params, form, options);
    if (response.status === 202) {
      const job = await acceptedJob(this._client, response, true, options);
      response = await this._client.request({
        method: "GET",
        path: `jobs/${encodeURIComponent(job.id)}/result`,
        query: { response_format: params.response_format },
        options,
      });
    }
    if (params.response_format === "rttm") return response.text();
    return parseJSON<Diarization>(response, "diarization");
  }
}

/** Speech to speech: the same speech, on the source's timeline, in another voice (or voices, or dubbed into
 * English). */
export class VoiceConversions extends APIResource<Client> {
  /** Convert `file` into `voice`. Resolves with the audio once the response starts (`jobId` names the job, whose
   * `retrieve` gives the phrases); `stream: true` has the server send it phrase by phrase as it is produced.
   * `wait: false` (or `async: true`) resolves with the queued Job instead. */
  create(params: VoiceConversionCreateParams & { wait: false }, options?: RequestOptions): Promise<Job>;
  create(params: VoiceConversionCreateParams & { async: true }, options?: RequestOptions): Promise<Job>;
  create(
    params: VoiceConversionCreateParams & { wait?: true; async?: false },
    options?: RequestOptions,
  ): Promise<SpeechResponse>;
  create(params: VoiceConversionCreateParams, options?: RequestOptions): Promise<SpeechResponse | Job>;
  async create(params: VoiceConversionCreateParams, options?: RequestOptions): Promise<SpeechResponse | Job> {
    if (params.async === true && params.wait === true) {
      throw new TypeError("async: true and wait: true disagree; pass one of them.");
    }
    const wait = params.async === true ? false : (params.wait ?? true);
    if (params.stream && !wait) {
      throw new TypeError("stream: true sends the audio as it is produced; it cannot also be async (wait: false).");
    }
    const extra = { stream: params.stream, ...(wait ? {} : { async: true }) };
    const response = await postAudio(
      this._client,
      "audio/voice-conversions",
      params,
      conversionForm(params, extra),
      options,
      true,
    );
    if (response.status === 202) {
      const job = await acceptedJob(this._client, response, wait, options);
      return wait ? this._client.jobs.result(job.id, {}, options) : job;
    }
    return new SpeechResponse(response);
  }

  /** The converted audio as Server-Sent Events (`stream_format=sse`): `conversion.audio.delta` events with base64
   * audio, phrase by phrase, then `conversion.audio.done` with the job id, usage and what the output says. */
  stream(params: VoiceConversionStreamParams, options?: RequestOptions): EventStream<VoiceConversionStreamEvent> {
    return new EventStream<VoiceConversionStreamEvent>(() => {
      const form = conversionForm(params, { stream: true, stream_format: "sse" });
      const headers = { Accept: "text/event-stream", ...(options?.headers ?? {}) };
      return postAudio(this._client, "audio/voice-conversions", params, form, { ...options, headers }, true);
    });
  }

  /** What a finished conversion produced: its phrases (start, speaker, voice, text), the voice of each speaker and
   * the transcript of the output (JobFailedError while it is queued or running, or if it failed). */
  async retrieve(jobId: string, options?: RequestOptions): Promise<VoiceConversionResult> {
    const job = await this._client.jobs.retrieve(jobId, options);
    if (job.status !== "succeeded" || !job.result) throw new JobFailedError(job);
    return job.result as VoiceConversionResult;
  }
}

/** `client.audio`: speech, transcriptions, translations, diarization and voice conversions. */
export class Audio extends APIResource<Client> {
  readonly speech: Speech = new Speech(this._client);
  readonly transcriptions: Transcriptions = new Transcriptions(this._client);
  readonly translations: Translations = new Translations(this._client);
  readonly diarization: DiarizationResource = new DiarizationResource(this._client);
  readonly voiceConversions: VoiceConversions = new VoiceConversions(this._client);
}
