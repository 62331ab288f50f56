/**
 * Configuration, request building, retries and response handling shared by every resource.
 *
 * The retry policy lives here and nowhere else (as in the Python SDK's _base_client): 408, 429, 5xx, a 409 whose
 * original request is still in progress, connection errors and timeouts are retried with exponential backoff and
 * jitter, honouring `Retry-After` (seconds or an HTTP date) and `retry-after-ms`; every POST carries one
 * `Idempotency-Key`, generated once per call and reused by its retries.
 */

import {
  APIConnectionError,
  APIError,
  APITimeoutError,
  APIUserAbortError,
  SpeechToSpeechAIError,
  makeStatusError,
  parseErrorBody,
} from "./errors.js";
import { isNode, randomUUID, readEnv, sleep } from "./runtime.js";
import { prepareFile, type PreparedFile, type Uploadable } from "./uploads.js";
import { VERSION } from "./version.js";

export const API_KEY_ENV = "S2S_API_KEY";
export const BASE_URL_ENV = "S2S_BASE_URL";
export const DEFAULT_BASE_URL = "http://127.0.0.1:8000";
/** Milliseconds per attempt (a long transcription waits on the server up to its synchronous budget). */
export const DEFAULT_TIMEOUT = 600_000;
export const DEFAULT_MAX_RETRIES = 2;
export const INITIAL_RETRY_DELAY = 500;
export const MAX_RETRY_DELAY = 8_000;
export const MAX_RETRY_AFTER = 60_000;
export const IDEMPOTENCY_HEADER = "Idempotency-Key";

export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** Defaults to the S2S_API_KEY environment variable (Node). */
  apiKey?: string;
  /** The server's root URL (`http://127.0.0.1:8000`; `/v1` is added). Defaults to S2S_BASE_URL (Node), the page's
   * origin (browsers), else http://127.0.0.1:8000. A relative URL is resolved against the page. */
  baseURL?: string;
  /** Milliseconds per attempt; for a streamed body, the longest silence between two chunks. Default 600000. */
  timeout?: number;
  /** Retries of a failed request (408, 409 in progress, 429, 5xx, connection errors). Default 2. */
  maxRetries?: number;
  /** A fetch implementation (default: the global fetch). */
  fetch?: Fetch;
  /** Headers sent with every request. */
  defaultHeaders?: Record<string, string>;
}

/** The last argument of every method. */
export interface RequestOptions {
  /** Aborts the call (and any retry or wait it is in): it rejects with APIUserAbortError. */
  signal?: AbortSignal;
  /** Milliseconds per attempt, instead of the client's. */
  timeout?: number;
  /** The Idempotency-Key of a POST (default: one generated per call, reused by its retries). */
  idempotencyKey?: string;
  /** Extra headers; a `null` value removes a default one. */
  headers?: Record<string, string | null | undefined>;
  /** Retries of this call, instead of the client's. */
  maxRetries?: number;
}

export type HTTPMethod = "GET" | "POST" | "PATCH" | "DELETE";

export type QueryValue = string | number | boolean | Date | null | undefined | readonly (string | number | boolean)[];

/** Everything needed to (re)build one HTTP request; a retry builds it again from here. */
export interface FinalRequest {
  method: HTTPMethod;
  /** Relative to the API root (`audio/speech`). */
  path: string;
  query?: Record<string, QueryValue>;
  json?: Record<string, unknown>;
  /** Multipart form fields: undefined and null are left out, booleans are "true"/"false", arrays repeat the field,
   * objects are sent as JSON text. */
  form?: Record<string, unknown>;
  files?: readonly (readonly [string, Uploadable])[];
  /** Leave the body unread, to be streamed by the caller (audio, Server-Sent Events). */
  stream?: boolean;
  options?: RequestOptions;
}

/** `http://host:8000` and `http://host:8000/v1` both mean the API root `http://host:8000/v1/`. */
export function normalizeBaseURL(url: string): URL {
  let parsed: URL;
  try {
    const page = (globalThis as { location?: { href?: string } }).location?.href;
    parsed = page ? new URL(url.trim(), page) : new URL(url.trim());
  } catch {
    throw new SpeechToSpeechAIError(`baseURL must be an http(s) URL such as ${DEFAULT_BASE_URL}, got '${url}'.`);
  }
  if ((parsed.protocol !== "http:" && parsed.protocol !== "https:") || !parsed.host) {
    throw new SpeechToSpeechAIError(`baseURL must be an http(s) URL such as ${DEFAULT_BASE_URL}, got '${url}'.`);
  }
  let path = parsed.pathname.replace(/\/+$/, "");
  if (!path.endsWith("/v1")) path += "/v1";
  parsed.pathname = path + "/";
  parsed.search = "";
  parsed.hash = "";
  return parsed;
}

/** An id as one URL path segment (never a path traversal). */
export function pathParam(value: string): string {
  if (typeof value !== "string" || !value) throw new TypeError("Expected a non-empty id.");
  return encodeURIComponent(value);
}

/** Milliseconds the server's `Retry-After` (seconds or an HTTP date) or `retry-after-ms` asks for, if sane. */
export function retryAfterMs(headers: Headers, now: number = Date.now()): number | undefined {
  let ms: number | undefined;
  const msHeader = headers.get("retry-after-ms");
  if (msHeader !== null && msHeader.trim() !== "") {
    const value = Number(msHeader);
    ms = Number.isFinite(value) ? value : undefined;
  }
  const header = headers.get("retry-after");
  if (ms === undefined && header !== null && header.trim() !== "") {
    const seconds = Number(header);
    if (Number.isFinite(seconds)) {
      ms = seconds * 1000;
    } else {
      const when = Date.parse(header);
      ms = Number.isNaN(when) ? undefined : when - now;
    }
  }
  if (ms === undefined || ms < 0 || ms > MAX_RETRY_AFTER) return undefined;
  return ms;
}

/** Whether a failed response may be retried: the server's `x-should-retry` first, then its status (and, for a
 * 409, its code: only `request_in_progress`, an Idempotency-Key whose original is still running). */
export function shouldRetry(status: number, headers: Headers, code: string | undefined): boolean {
  const hint = (headers.get("x-should-retry") ?? "").toLowerCase();
  if (hint === "true" || hint === "false") return hint === "true";
  if (status === 409) return code === "request_in_progress";
  return status === 408 || status === 429 || status >= 500;
}

function formScalar(value: unknown): string {
  if (typeof value === "boolean") return value ? "true" : "false";
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function queryScalar(value: unknown): string {
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === "boolean") return value ? "true" : "false";
  return String(value);
}

/** Fields without undefined and null values. */
export function compact<T extends Record<string, unknown>>(fields: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null) out[key] = value;
  }
  return out as Partial<T>;
}

/** One attempt's abort signal: the caller's signal and a timer; `idle()` restarts the timer (streamed bodies). */
class AttemptSignal {
  readonly controller = new AbortController();
  timedOut = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onAbort: () => void;

  constructor(
    private readonly user: AbortSignal | undefined,
    private readonly timeout: number,
  ) {
    this.onAbort = () => this.controller.abort(user?.reason);
    user?.addEventListener("abort", this.onAbort, { once: true });
    this.arm();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get userAborted(): boolean {
    return this.user?.aborted === true;
  }

  arm(): void {
    this.pause();
    if (Number.isFinite(this.timeout) && this.timeout > 0) {
      this.timer = setTimeout(() => {
        this.timedOut = true;
        this.controller.abort(new APITimeoutError(`Request timed out after ${this.timeout} ms.`));
      }, this.timeout);
    }
  }

  pause(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  done(): void {
    this.pause();
    this.user?.removeEventListener("abort", this.onAbort);
  }
}

function userAbortError(signal: AbortSignal | undefined, cause?: unknown): APIUserAbortError {
  const reason = signal?.reason;
  const why = reason instanceof Error && reason.message ? `: ${reason.message}` : "";
  return new APIUserAbortError(`Request was aborted${why}.`, { cause: cause ?? reason });
}

/** The base of `Client`: settings, and `request`, which sends with retries and returns a successful Response. */
export class APIClient {
  readonly apiKey: string;
  readonly baseURL: string;
  readonly timeout: number;
  readonly maxRetries: number;
  protected readonly fetchImpl: Fetch;
  protected readonly customHeaders: Record<string, string>;
  /** Waits between retries and polls; replaceable in tests. */
  _sleep: (ms: number, signal?: AbortSignal) => Promise<void> = sleep;
  /** 0-1 jitter source; replaceable in tests. */
  _random: () => number = Math.random;

  constructor(options: ClientOptions = {}) {
    const apiKey = options.apiKey ?? readEnv(API_KEY_ENV);
    if (!apiKey) {
      throw new SpeechToSpeechAIError(
        `No API key: pass apiKey to the Client or set the ${API_KEY_ENV} environment variable ` +
          "(`s2s keys create` on the server prints one).",
      );
    }
    const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new RangeError("maxRetries must be 0 or more.");
    this.apiKey = apiKey;
    const pageOrigin = (globalThis as { location?: { origin?: string } }).location?.origin;
    const base =
      options.baseURL ?? readEnv(BASE_URL_ENV) ?? (pageOrigin && pageOrigin !== "null" ? pageOrigin : DEFAULT_BASE_URL);
    this.baseURL = normalizeBaseURL(base).href;
    this.timeout = options.timeout ?? DEFAULT_TIMEOUT;
    this.maxRetries = maxRetries;
    const custom = options.fetch;
    this.fetchImpl = custom ?? ((input, init) => globalThis.fetch(input, init));
    this.customHeaders = { ...(options.defaultHeaders ?? {}) };
  }

  /** The headers of every request (before the call's own). */
  get defaultHeaders(): Record<string, string> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.apiKey}`,
      Accept: "application/json",
    };
    // browsers refuse to let a page set User-Agent; Node sends it
    if (isNode()) headers["User-Agent"] = `speechtospeechai-js/${VERSION}`;
    return { ...headers, ...this.customHeaders };
  }

  /** The full URL of an API path with its query. */
  buildURL(path: string, query?: Record<string, QueryValue>): string {
    const url = new URL(path.replace(/^\/+/, ""), this.baseURL);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined || value === null) continue;
      if (Array.isArray(value)) {
        for (const item of value) url.searchParams.append(key, queryScalar(item));
      } else {
        url.searchParams.append(key, queryScalar(value));
      }
    }
    return url.href;
  }

  private buildHeaders(req: FinalRequest, idempotencyKey: string | undefined): Headers {
    const headers = new Headers();
    for (const [key, value] of Object.entries(this.defaultHeaders)) headers.set(key, value);
    if (req.json !== undefined) headers.set("Content-Type", "application/json");
    if (idempotencyKey) headers.set(IDEMPOTENCY_HEADER, idempotencyKey);
    for (const [key, value] of Object.entries(req.options?.headers ?? {})) {
      if (value === null || value === undefined) headers.delete(key);
      else headers.set(key, value);
    }
    return headers;
  }

  private static buildBody(req: FinalRequest, files: [string, PreparedFile][]): BodyInit | undefined {
    if (req.json !== undefined) return JSON.stringify(compact(req.json));
    if (req.form === undefined && files.length === 0) return undefined;
    const form = new FormData();
    for (const [key, value] of Object.entries(req.form ?? {})) {
      if (value === undefined || value === null) continue;
      if (Array.isArray(value)) {
        for (const item of value) form.append(key, formScalar(item));
      } else {
        form.append(key, formScalar(value));
      }
    }
    for (const [name, file] of files) form.append(name, file.blob, file.filename);
    return form;
  }

  /** Milliseconds before retry number `attempt + 1`, or undefined when the call must not be retried. */
  retryDelay(
    attempt: number,
    maxRetries: number,
    failed?: { status: number; headers: Headers; code?: string },
  ): number | undefined {
    if (attempt >= maxRetries) return undefined;
    if (failed) {
      if (!shouldRetry(failed.status, failed.headers, failed.code)) return undefined;
      const serverSays = retryAfterMs(failed.headers);
      if (serverSays !== undefined) return serverSays;
    }
    const backoff = Math.min(INITIAL_RETRY_DELAY * 2 ** attempt, MAX_RETRY_DELAY);
    return backoff * (1 - 0.25 * this._random());
  }

  private async pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
    try {
      await this._sleep(ms, signal);
    } catch (err) {
      throw userAbortError(signal, err);
    }
  }

  /** Send `req` with retries; resolve with a successful Response (its body already read, unless `req.stream`), or
   * reject with a typed error. */
  async request(req: FinalRequest): Promise<Response> {
    const options = req.options ?? {};
    const userSignal = options.signal;
    if (userSignal?.aborted) throw userAbortError(userSignal);
    const maxRetries = options.maxRetries ?? this.maxRetries;
    const timeout = options.timeout ?? this.timeout;
    let idempotencyKey: string | undefined;
    if (req.method === "POST") {
      const given = Object.entries(options.headers ?? {}).find(([k]) => k.toLowerCase() === "idempotency-key");
      idempotencyKey = options.idempotencyKey ?? (given ? undefined : `s2s-${await randomUUID()}`);
    }
    // files are read once per call; every attempt sends the same bytes
    const files: [string, PreparedFile][] = [];
    for (const [name, value] of req.files ?? []) files.push([name, await prepareFile(value)]);
    const url = this.buildURL(req.path, req.query);
    const headers = this.buildHeaders(req, idempotencyKey);
    // the fetch failed or the body broke off: throw (the caller's abort, or the last attempt), or wait to retry
    const afterConnectionError = async (err: unknown, attemptSignal: AttemptSignal, attempt: number): Promise<void> => {
      attemptSignal.done();
      if (attemptSignal.userAborted) throw userAbortError(userSignal, err);
      const error = this.connectionError(req, url, err, attemptSignal.timedOut, timeout);
      const delay = this.retryDelay(attempt, maxRetries);
      if (delay === undefined) throw error;
      await this.pause(delay, userSignal);
    };

    for (let attempt = 0; ; attempt++) {
      const attemptSignal = new AttemptSignal(userSignal, timeout);
      const init: RequestInit = {
        method: req.method,
        headers,
        body: APIClient.buildBody(req, files),
        signal: attemptSignal.signal,
        redirect: "follow",
      };
      let response: Response;
      try {
        response = await this.fetchImpl(url, init);
      } catch (err) {
        await afterConnectionError(err, attemptSignal, attempt);
        continue;
      }

      if (response.ok) {
        if (req.stream) return this.streamed(response, attemptSignal, timeout);
        try {
          const body = await response.arrayBuffer();
          attemptSignal.done();
          return rebuilt(response, body);
        } catch (err) {
          await afterConnectionError(err, attemptSignal, attempt);
          continue;
        }
      }

      let text = "";
      try {
        text = await response.text();
      } catch (err) {
        if (attemptSignal.userAborted) {
          attemptSignal.done();
          throw userAbortError(userSignal, err);
        }
      }
      attemptSignal.done();
      const code = parseErrorBody(text).envelope?.code;
      const delay = this.retryDelay(attempt, maxRetries, { status: response.status, headers: response.headers, code });
      if (delay === undefined) throw makeStatusError(response.status, response.statusText, response.headers, text);
      await this.pause(delay, userSignal);
    }
  }

  private connectionError(req: FinalRequest, url: string, err: unknown, timedOut: boolean, timeout: number): APIError {
    if (timedOut) {
      return new APITimeoutError(
        `${req.method} ${url} timed out after ${timeout} ms; raise the client's timeout, or use wait: false and ` +
          "client.jobs.wait() for long jobs.",
        { cause: err },
      );
    }
    const detail = err instanceof Error ? `${err.name}: ${err.message}${causeText(err)}` : String(err);
    return new APIConnectionError(
      `Could not reach the API at ${this.baseURL} (${detail}); is the server running (\`make run\`) and is ` +
        `baseURL / ${BASE_URL_ENV} right?`,
      { cause: err },
    );
  }

  /** A successful response whose body is read as it arrives: the timeout becomes the longest silence between
   * chunks, and an abort or a broken connection rejects the reader with a typed error. */
  private streamed(response: Response, attempt: AttemptSignal, timeout: number): Response {
    const source = response.body;
    if (!source) {
      attempt.done();
      return response;
    }
    attempt.pause();
    const reader = source.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        attempt.arm();
        try {
          const { done, value } = await reader.read();
          attempt.pause();
          if (done) {
            attempt.done();
            controller.close();
          } else {
            controller.enqueue(value);
          }
        } catch (err) {
          attempt.done();
          if (attempt.userAborted) controller.error(new APIUserAbortError("Request was aborted.", { cause: err }));
          else if (attempt.timedOut) {
            controller.error(
              new APITimeoutError(`No data for ${timeout} ms while reading the response.`, { cause: err }),
            );
          } else {
            controller.error(
              new APIConnectionError(`The connection broke while reading the response (${String(err)}).`, {
                cause: err,
              }),
            );
          }
        }
      },
      async cancel(reason) {
        attempt.done();
        await reader.cancel(reason);
      },
    });
    return rebuilt(response, body);
  }
}

function causeText(err: Error): string {
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) return ` (${cause.message})`;
  if (cause && typeof cause === "object" && "code" in cause) return ` (${String((cause as { code: unknown }).code)})`;
  return "";
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** A Response like `response` (status, headers, url) with another body. */
function rebuilt(response: Response, body: BodyInit | null): Response {
  const copy = new Response(NULL_BODY_STATUSES.has(response.status) ? null : body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  if (response.url) {
    try {
      Object.defineProperty(copy, "url", { value: response.url });
    } catch {
      // some runtimes' Response.url cannot be redefined; the URL is informational only
    }
  }
  return copy;
}

/** The body (already read) as JSON of the expected shape. */
export async function parseJSON<T>(response: Response, what: string): Promise<T> {
  const text = await response.text();
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new APIError(
      `The server's answer (HTTP ${response.status}, ${response.headers.get("content-type") ?? "no content type"}) is ` +
        `not a valid ${what}; is baseURL pointing at a Speech to Speech AI server?`,
      { status: response.status, requestId: response.headers.get("x-request-id") ?? undefined, body: text, cause: err },
    );
  }
}

/** A resource of the client tree (`client.audio.speech`, `client.voices`, ...). */
export class APIResource<C extends APIClient = APIClient> {
  constructor(protected readonly _client: C) {}
}
