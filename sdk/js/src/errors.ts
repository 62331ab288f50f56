/**
 * Typed errors, one per error code of the API, and the one function that maps a failed response onto them.
 *
 * Every error the server sends has the envelope `{"error": {"code", "message", "param", "request_id"}}`;
 * `makeStatusError` turns it into the matching class, so callers catch types (`instanceof`), never text.
 */

import type { Batch, Job } from "./types.js";

/** Base class of every error this package throws. */
export class SpeechToSpeechAIError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message);
    this.name = new.target.name;
    if (options && "cause" in options) (this as { cause?: unknown }).cause = options.cause;
  }
}

export interface APIErrorInit {
  status?: number;
  code?: string;
  param?: string;
  requestId?: string;
  body?: unknown;
  headers?: Headers;
  cause?: unknown;
}

/** A request to the API failed. `status`, `code`, `param` and `requestId` are undefined where they do not apply. */
export class APIError extends SpeechToSpeechAIError {
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly param: string | undefined;
  readonly requestId: string | undefined;
  /** The parsed error body (the envelope), or its text when it was not JSON. */
  readonly body: unknown;
  readonly headers: Headers | undefined;
  /** The server's message, without the bracketed details `message` adds. */
  readonly error: string;

  constructor(message: string, init: APIErrorInit = {}) {
    super(withDetails(message, init), { cause: init.cause });
    this.error = message;
    this.status = init.status;
    this.code = init.code;
    this.param = init.param;
    this.requestId = init.requestId;
    this.body = init.body;
    this.headers = init.headers;
  }
}

function withDetails(message: string, init: APIErrorInit): string {
  const details: string[] = [];
  if (init.status !== undefined) details.push(String(init.status));
  if (init.code) details.push(init.code);
  if (init.param) details.push(`param ${init.param}`);
  if (init.requestId) details.push(`request ${init.requestId}`);
  return details.length ? `${message} [${details.join(", ")}]` : message;
}

/** The server answered with a 4xx or 5xx status. */
export class APIStatusError extends APIError {
  declare readonly status: number;
}

/** 400 `invalid_request`: a parameter is missing or invalid (`param` names it). */
export class BadRequestError extends APIStatusError {}
/** 400 `invalid_audio`: the upload is not audio any decoder can read. */
export class InvalidAudioError extends BadRequestError {}
/** 401 `invalid_api_key`: the API key is missing, wrong or revoked. */
export class AuthenticationError extends APIStatusError {}
/** 402 `insufficient_credits`: the account has not enough credits for this operation. */
export class InsufficientCreditsError extends APIStatusError {}
/** 403: the key may not do this. */
export class PermissionDeniedError extends APIStatusError {}
/** 404: the route, job, model or voice does not exist (the subclasses say which). */
export class NotFoundError extends APIStatusError {}
/** 404 `model_not_found`: no model has this id. */
export class ModelNotFoundError extends NotFoundError {}
/** 404 `voice_not_found`: no preset or cloned voice has this id. */
export class VoiceNotFoundError extends NotFoundError {}
/** 404 `model_not_installed`: the model is known but this server lacks its weights; the message says how to get them. */
export class ModelNotInstalledError extends NotFoundError {}
/** 409 `conflict` (or `request_in_progress`, retried automatically): the resource's state does not allow this. */
export class ConflictError extends APIStatusError {}
/** 413 `file_too_large`: the upload exceeds the server's limit. */
export class FileTooLargeError extends APIStatusError {}
/** 422: the request body could not be validated. */
export class UnprocessableEntityError extends BadRequestError {}
/** 429 `rate_limit_exceeded`: too many requests; retried automatically, honouring Retry-After. */
export class RateLimitError extends APIStatusError {}
/** 5xx: the server failed; retried automatically. Quote `requestId` when reporting it. */
export class InternalServerError extends APIStatusError {}
/** 503 `model_unavailable`: no worker serving the model is running right now; retried after Retry-After. */
export class ModelUnavailableError extends InternalServerError {}

/** The server could not be reached, or the connection broke before a response arrived. */
export class APIConnectionError extends APIError {
  constructor(message = "Connection error.", init: { cause?: unknown } = {}) {
    super(message, init);
  }
}

/** The request timed out (see the client's `timeout`, in milliseconds). */
export class APITimeoutError extends APIConnectionError {
  constructor(message = "Request timed out.", init: { cause?: unknown } = {}) {
    super(message, init);
  }
}

/** The caller's AbortSignal aborted the request; it is never retried. */
export class APIUserAbortError extends APIError {
  constructor(message = "Request was aborted.", init: { cause?: unknown } = {}) {
    super(message, init);
  }
}

/** A Server-Sent Events stream ended with an `error` event (the job failed, or outlived the stream's budget). */
export class StreamError extends APIError {
  /** The job that was streamed: with code `timeout` it is still running (`client.jobs.wait(jobId)`). */
  readonly jobId: string | undefined;

  constructor(message: string, init: APIErrorInit & { jobId?: string } = {}) {
    super(message, init);
    this.jobId = init.jobId;
  }
}

/** A background job ended `failed` or `canceled`; `job.error` holds the server's code and message. */
export class JobFailedError extends SpeechToSpeechAIError {
  readonly job: Job;
  readonly code: string;

  constructor(job: Job) {
    const code = job.error?.code ?? job.status;
    const message = job.error?.message || `Job ${job.id} ${job.status}.`;
    super(`${message} [job ${job.id} ${job.status}, ${code}]`);
    this.job = job;
    this.code = code;
  }
}

/** `jobs.wait` gave up before the job ended; the job keeps running on the server. */
export class JobTimeoutError extends SpeechToSpeechAIError {
  readonly job: Job;
  readonly timeout: number;

  constructor(job: Job, timeout: number) {
    super(
      `Job ${job.id} is still ${job.status} after ${timeout / 1000}s (progress ${Math.round((job.progress ?? 0) * 100)}%); ` +
        `call jobs.wait('${job.id}') again or jobs.cancel('${job.id}').`,
    );
    this.job = job;
    this.timeout = timeout;
  }
}

/** `batches.wait` gave up before the batch ended; the batch keeps running on the server. */
export class BatchTimeoutError extends SpeechToSpeechAIError {
  readonly batch: Batch;
  readonly timeout: number;

  constructor(batch: Batch, timeout: number) {
    const counts = batch.request_counts ?? { total: 0, completed: 0, failed: 0 };
    super(
      `Batch ${batch.id} is still ${batch.status} after ${timeout / 1000}s (${counts.completed + counts.failed} of ` +
        `${counts.total} done); call batches.wait('${batch.id}') again or batches.cancel('${batch.id}').`,
    );
    this.batch = batch;
    this.timeout = timeout;
  }
}

/** A webhook whose signature, timestamp or headers do not verify: answer it 400 and do not act on it. */
export class WebhookVerificationError extends SpeechToSpeechAIError {}

type StatusErrorClass = new (message: string, init: APIErrorInit) => APIStatusError;

const BY_CODE: Record<string, StatusErrorClass> = {
  invalid_request: BadRequestError,
  invalid_audio: InvalidAudioError,
  model_unavailable: ModelUnavailableError,
  invalid_api_key: AuthenticationError,
  insufficient_credits: InsufficientCreditsError,
  rate_limit_exceeded: RateLimitError,
  model_not_found: ModelNotFoundError,
  voice_not_found: VoiceNotFoundError,
  model_not_installed: ModelNotInstalledError,
  file_too_large: FileTooLargeError,
  conflict: ConflictError,
  request_in_progress: ConflictError,
};

const BY_STATUS: Record<number, StatusErrorClass> = {
  400: BadRequestError,
  401: AuthenticationError,
  402: InsufficientCreditsError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  413: FileTooLargeError,
  422: UnprocessableEntityError,
  429: RateLimitError,
};

/** The class for a status and an envelope code: the code refines the status (404 + model_not_installed), never
 * contradicts it. */
export function errorClass(status: number, code: string | undefined): StatusErrorClass {
  const byStatus = BY_STATUS[status] ?? (status >= 500 ? InternalServerError : APIStatusError);
  const byCode = code ? BY_CODE[code] : undefined;
  if (byCode && (byCode === byStatus || byCode.prototype instanceof byStatus)) return byCode;
  return byStatus;
}

export interface ErrorEnvelope {
  code?: string;
  message?: string;
  param?: string | null;
  request_id?: string | null;
}

/** The parsed body of a failed response and what its envelope says. */
export function parseErrorBody(text: string): { body: unknown; envelope: ErrorEnvelope | undefined } {
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    return { body: text, envelope: undefined };
  }
  const detail = body && typeof body === "object" ? (body as { error?: unknown }).error : undefined;
  return { body, envelope: detail && typeof detail === "object" ? (detail as ErrorEnvelope) : undefined };
}

/** The typed error for a failed response whose body text has been read. */
export function makeStatusError(status: number, statusText: string, headers: Headers, text: string): APIStatusError {
  const { body, envelope } = parseErrorBody(text);
  let message: string;
  if (envelope) {
    message = envelope.message || `HTTP ${status}`;
  } else {
    const trimmed = text.trim();
    message = `HTTP ${status}${statusText ? ` ${statusText}` : ""}` + (trimmed ? `: ${trimmed.slice(0, 300)}` : "");
  }
  const requestId = envelope?.request_id || headers.get("x-request-id") || undefined;
  const cls = errorClass(status, envelope?.code);
  return new cls(message, {
    status,
    code: envelope?.code,
    param: envelope?.param ?? undefined,
    requestId,
    body,
    headers,
  });
}
