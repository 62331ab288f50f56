/** Server-Sent Events: a spec-following parser, and `EventStream`, the async iterator of a streamed job. */

import { SpeechToSpeechAIError, StreamError } from "./errors.js";

export interface ServerSentEvent {
  event: string;
  data: string;
  id?: string;
  retry?: number;
}

/** The events of an SSE body (https://html.spec.whatwg.org/multipage/server-sent-events.html), as they arrive:
 * lines end with CR, LF or CRLF, `data` lines of one event are joined with LF, `:` lines are comments. */
export async function* parseSSE(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder("utf-8");
  let buffer = "";
  let data: string[] = [];
  let event = "";
  let id: string | undefined;
  let retry: number | undefined;
  let sawField = false;
  let pendingCR = false;

  function* lines(final: boolean): Generator<string> {
    let start = 0;
    for (let i = 0; i < buffer.length; i++) {
      const ch = buffer[i];
      if (ch === "\n" && pendingCR) {
        // the LF of a CRLF whose CR ended the previous line
        pendingCR = false;
        start = i + 1;
        continue;
      }
      pendingCR = false;
      if (ch === "\r" || ch === "\n") {
        yield buffer.slice(start, i);
        if (ch === "\r") pendingCR = true;
        start = i + 1;
      }
    }
    buffer = final ? "" : buffer.slice(start);
  }

  function field(line: string): ServerSentEvent | undefined {
    if (line === "") {
      if (!sawField) return undefined;
      const dispatched: ServerSentEvent = { event: event || "message", data: data.join("\n") };
      if (id !== undefined) dispatched.id = id;
      if (retry !== undefined) dispatched.retry = retry;
      data = [];
      event = "";
      retry = undefined;
      sawField = false;
      return dispatched;
    }
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    sawField = true;
    if (name === "data") data.push(value);
    else if (name === "event") event = value;
    else if (name === "id" && !value.includes("\0")) id = value;
    else if (name === "retry" && /^\d+$/.test(value)) retry = Number(value);
    return undefined;
  }

  try {
    while (true) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      for (const line of lines(done)) {
        const dispatched = field(line);
        if (dispatched) yield dispatched;
      }
      // an event not ended by a blank line when the stream ends is incomplete: dropped, as the spec says
      if (done) return;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

interface ErrorEventData {
  type: "error";
  error?: { code?: string; message?: string; job_id?: string };
}

/** An async iterable of a job's JSON events (`for await (const event of stream)`). The request is sent when the
 * iteration starts; an `error` event rejects it with StreamError (code `timeout`: the job is still running,
 * `jobId` says which to wait for). Breaking out of the loop closes the connection (the server cancels the job). */
export class EventStream<T extends { type: string }> implements AsyncIterable<T> {
  /** The job being streamed, once the response arrived (its X-Job-Id header). */
  jobId: string | undefined;
  /** The response's X-Request-Id, once it arrived. */
  requestId: string | undefined;
  private started = false;

  constructor(private readonly open: () => Promise<Response>) {}

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.started) throw new SpeechToSpeechAIError("An EventStream can be iterated once; make a new request.");
    this.started = true;
    const response = await this.open();
    this.jobId = response.headers.get("x-job-id") ?? undefined;
    this.requestId = response.headers.get("x-request-id") ?? undefined;
    const contentType = response.headers.get("content-type") ?? "";
    if (!contentType.startsWith("text/event-stream")) {
      const text = await response.text();
      throw new SpeechToSpeechAIError(
        `Expected Server-Sent Events, got HTTP ${response.status} ${contentType || "without a content type"}: ` +
          text.slice(0, 200),
      );
    }
    if (!response.body) return;
    for await (const sse of parseSSE(response.body)) {
      if (!sse.data) continue;
      let payload: T | ErrorEventData;
      try {
        payload = JSON.parse(sse.data) as T | ErrorEventData;
      } catch (err) {
        throw new SpeechToSpeechAIError(`An event of the stream is not JSON: ${sse.data.slice(0, 200)}`, {
          cause: err,
        });
      }
      if (payload.type === "error") {
        const error = (payload as ErrorEventData).error ?? {};
        throw new StreamError(error.message || "The stream ended with an error.", {
          code: error.code,
          jobId: error.job_id ?? this.jobId,
          requestId: this.requestId,
          body: payload,
        });
      }
      yield payload as T;
    }
  }

  /** Every event, read to the end. */
  async toArray(): Promise<T[]> {
    const events: T[] = [];
    for await (const event of this) events.push(event);
    return events;
  }
}
