// A local fake `fetch` for the unit tests: it records every call and answers from a list of handlers, one per
// call (the last one repeats). Handlers get (url, init, callNumber) and return a Response (or throw).
export function fakeFetch(...handlers) {
  const calls = [];
  const fetch = async (input, init = {}) => {
    const url = typeof input === "string" ? input : input.url;
    const call = { url: new URL(url), init, headers: new Headers(init.headers) };
    calls.push(call);
    const handler = handlers[Math.min(calls.length - 1, handlers.length - 1)];
    return handler(call, calls.length);
  };
  fetch.calls = calls;
  return fetch;
}

export function json(body, status = 200, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

export function errorEnvelope(status, code, message, { param = null, requestId = null, headers = {} } = {}) {
  return json({ error: { code, message, param, request_id: requestId } }, status, headers);
}

/** A Response whose body is the given chunks, each released after `gapMs`; `stallAfter` chunks then it never ends
 * (until the request's signal aborts). */
export function chunked(chunks, { status = 200, headers = {}, gapMs = 0, stallAfter, signal } = {}) {
  const encoder = new TextEncoder();
  let i = 0;
  const body = new ReadableStream({
    async pull(controller) {
      if (stallAfter !== undefined && i >= stallAfter) {
        await new Promise((resolve, reject) => {
          if (signal?.aborted) reject(signal.reason);
          signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
        });
        return;
      }
      if (i >= chunks.length) {
        controller.close();
        return;
      }
      if (gapMs) await new Promise((resolve) => setTimeout(resolve, gapMs));
      const chunk = chunks[i++];
      controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
    },
  });
  return new Response(body, { status, headers });
}

/** A fetch answer that never comes: it rejects when the request's signal aborts, as real fetch does. */
export function hang(call) {
  return new Promise((resolve, reject) => {
    const signal = call.init.signal;
    if (signal?.aborted) reject(signal.reason);
    signal?.addEventListener("abort", () => reject(signal.reason ?? new DOMException("aborted", "AbortError")), {
      once: true,
    });
  });
}

/** A client whose waits between retries are recorded instead of slept. */
export function recordingSleep(client) {
  const delays = [];
  client._sleep = async (ms, signal) => {
    if (signal?.aborted) throw signal.reason;
    delays.push(ms);
  };
  return delays;
}
