/**
 * JavaScript/TypeScript client for the Speech to Speech AI API.
 *
 * ```ts
 * import { Client } from "speechtospeechai";
 * const client = new Client({ apiKey: "..." });      // or S2S_API_KEY; baseURL or S2S_BASE_URL
 * const audio = await client.audio.speech.create({ model: "piper", voice: "joe", input: "Hello!" });
 * await audio.save("output.mp3");                     // Node; in browsers: await audio.blob()
 * ```
 */

export { Client, Client as default } from "./client.js";
export {
  API_KEY_ENV,
  BASE_URL_ENV,
  DEFAULT_BASE_URL,
  DEFAULT_MAX_RETRIES,
  DEFAULT_TIMEOUT,
  IDEMPOTENCY_HEADER,
  type ClientOptions,
  type Fetch,
  type RequestOptions,
} from "./core.js";
export {
  APIConnectionError,
  APIError,
  APIStatusError,
  APITimeoutError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  BatchTimeoutError,
  ConflictError,
  FileTooLargeError,
  InsufficientCreditsError,
  InternalServerError,
  InvalidAudioError,
  JobFailedError,
  JobTimeoutError,
  ModelNotFoundError,
  ModelNotInstalledError,
  ModelUnavailableError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  SpeechToSpeechAIError,
  StreamError,
  UnprocessableEntityError,
  VoiceNotFoundError,
  WebhookVerificationError,
} from "./errors.js";
export { BinaryResponse, SpeechResponse } from "./response.js";
export { EventStream, parseSSE, type ServerSentEvent } from "./streaming.js";
export { dataURL, fileFromPath, type PreparedFile, type Uploadable } from "./uploads.js";
export { VERSION } from "./version.js";
export type * from "./types.js";
export { TERMINAL_BATCH_STATUSES, TERMINAL_JOB_STATUSES } from "./types.js";
export type { ApiKeyCreateParams } from "./resources/account.js";
export type {
  DiarizationCreateParams,
  KnownSpeakers,
  SpeechCreateParams,
  TranscriptionCreateParams,
  TranscriptionStreamParams,
  TranslationCreateParams,
  VoiceConversionCreateParams,
  VoiceConversionStreamParams,
} from "./resources/audio.js";
export type { BatchCreateParams, BatchWaitOptions, DownloadedBatch } from "./resources/batches.js";
export { isJobDone, type JobListParams, type JobWaitOptions } from "./resources/jobs.js";
export type { UsageParams } from "./resources/usage.js";
export type { VoiceCloneParams, VoiceDesignParams, VoiceUpdateParams } from "./resources/voices.js";
export {
  unwrap,
  verify,
  type VerifyOptions,
  type WebhookEndpointCreateParams,
  type WebhookHeaders,
} from "./resources/webhooks.js";
