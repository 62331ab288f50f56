// The client's request machinery against a local fake fetch: retries and backoff (Retry-After in seconds, as an
// HTTP date, retry-after-ms), the Idempotency-Key reused across retries, timeouts, abort signals, error mapping.
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { describe, it } from "node:test";

import {
  APIConnectionError,
  APIError,
  APITimeoutError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  Client,
  ConflictError,
  InternalServerError,
  ModelNotFoundError,
  ModelNotInstalledError,
  ModelUnavailableError,
  NotFoundError,
  RateLimitError,
  SpeechToSpeechAIError,
  UnprocessableEntityError,
} from "speechtospeechai";

import { chunked, errorEnvelope, fakeFetch, hang, json, recordingSleep } from "./helpers.mjs";

const MODELS = { object: "list", data: [{ id: "piper", object: "model", kind: "tts" }] };

function client(fetch, options = {}) {
  return new Client({ apiKey: "test-key", baseURL: "http://api.test", fetch, ...options });
}

describe("configuration", () => {
  it("adds /v1 to the server root and keeps a given /v1", () => {
    assert.equal(client(fakeFetch()).baseURL, "http://api.test/v1/");
    assert.equal(
      new Client({ apiKey: "k", baseURL: "https://h.example:8443/v1/" }).baseURL,
      "https://h.example:8443/v1/",
    );
    assert.equal(new Client({ apiKey: "k", baseURL: "http://h/prefix" }).baseURL, "http://h/prefix/v1/");
  });

  it("reads S2S_API_KEY and S2S_BASE_URL, and refuses to start without a key", () => {
    const saved = { key: process.env.S2S_API_KEY, url: process.env.S2S_BASE_URL };
    try {
      process.env.S2S_API_KEY = "from-env";
      process.env.S2S_BASE_URL = "http://env-host:9000";
      const c = new Client();
      assert.equal(c.apiKey, "from-env");
      assert.equal(c.baseURL, "http://env-host:9000/v1/");
      delete process.env.S2S_API_KEY;
      assert.throws(
        () => new Client(),
        (err) => err instanceof SpeechToSpeechAIError && /S2S_API_KEY/.test(err.message),
      );
      assert.throws(() => new Client({ apiKey: "k", baseURL: "ftp://x" }), /http\(s\) URL/);
    } finally {
      for (const [name, value] of [
        ["S2S_API_KEY", saved.key],
        ["S2S_BASE_URL", saved.url],
      ]) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it("sends the key, Accept, the user agent and default headers; a per-call null removes one", async () => {
    const fetch = fakeFetch(() => json(MODELS));
    const c = client(fetch, { defaultHeaders: { "X-Team": "speech" } });
    await c.models.list({ headers: { "X-Call": "1", "X-Team": null } });
    const headers = fetch.calls[0].headers;
    assert.equal(headers.get("authorization"), "Bearer test-key");
    assert.equal(headers.get("accept"), "application/json");
    assert.match(headers.get("user-agent"), /^speechtospeechai-js\/\d+\.\d+\.\d+$/);
    assert.equal(headers.get("x-call"), "1");
    assert.equal(headers.get("x-team"), null);
    assert.equal(fetch.calls[0].url.href, "http://api.test/v1/models");
  });
});

describe("retries", () => {
  it("retries 5xx and 429 with one Idempotency-Key for every attempt of a POST", async () => {
    const fetch = fakeFetch(
      () => errorEnvelope(503, "model_unavailable", "no worker", { headers: { "retry-after-ms": "20" } }),
      () => errorEnvelope(429, "rate_limit_exceeded", "slow down", { headers: { "retry-after": "1" } }),
      () => new Response(new Uint8Array([1, 2, 3]), { headers: { "content-type": "audio/mpeg", "x-job-id": "job_1" } }),
    );
    const c = client(fetch);
    const delays = recordingSleep(c);
    const audio = await c.audio.speech.create({ model: "piper", voice: "joe", input: "Hi" });
    assert.deepEqual([...(await audio.bytes())], [1, 2, 3]);
    assert.equal(audio.jobId, "job_1");
    assert.equal(fetch.calls.length, 3);
    assert.deepEqual(delays, [20, 1000]);
    const keys = fetch.calls.map((call) => call.headers.get("idempotency-key"));
    assert.match(keys[0], /^s2s-[0-9a-f-]{36}$/);
    assert.deepEqual(new Set(keys).size, 1, "every retry reuses the call's key");
    // a second call gets a key of its own
    await c.audio.speech.create({ model: "piper", voice: "joe", input: "Hi" });
    assert.notEqual(fetch.calls[3].headers.get("idempotency-key"), keys[0]);
  });

  it("makes version 4 keys where crypto.randomUUID is missing (a page served over plain http)", async () => {
    // Node 18 has no global crypto at all; Node 20 has one with randomUUID
    const real = Object.getOwnPropertyDescriptor(globalThis, "crypto");
    let drawn = 0;
    const getRandomValues = (array) => (drawn++, webcrypto.getRandomValues(array));
    Object.defineProperty(globalThis, "crypto", { value: { getRandomValues }, configurable: true, writable: true });
    try {
      const fetch = fakeFetch(
        () => errorEnvelope(500, "server_error", "boom"),
        () => json(MODELS),
      );
      const c = client(fetch);
      recordingSleep(c);
      await c.account.keys.create({ name: "k" });
      const [first, second] = fetch.calls.map((call) => call.headers.get("idempotency-key"));
      assert.match(first, /^s2s-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(first, second);
      assert.equal(drawn, 1, "the key came from the page's getRandomValues, not from node:crypto");
    } finally {
      if (real) Object.defineProperty(globalThis, "crypto", real);
      else delete globalThis.crypto;
    }
  });

  it("honours Retry-After as an HTTP date", async () => {
    const when = new Date(Date.now() + 5000).toUTCString();
    const fetch = fakeFetch(
      () => errorEnvelope(503, "server_error", "busy", { headers: { "retry-after": when } }),
      () => json(MODELS),
    );
    const c = client(fetch);
    const delays = recordingSleep(c);
    await c.models.list();
    assert.equal(delays.length, 1);
    assert.ok(delays[0] > 3000 && delays[0] <= 5000, `waited ${delays[0]} ms for a date 5 s ahead`);
  });

  it("backs off exponentially with jitter when the server gives no (or an insane) Retry-After", async () => {
    const fetch = fakeFetch(
      () => new Response("bad gateway", { status: 502 }),
      () => errorEnvelope(500, "server_error", "boom", { headers: { "retry-after": "3600" } }),
      () => errorEnvelope(500, "server_error", "boom"),
      () => json(MODELS),
    );
    const c = client(fetch, { maxRetries: 3 });
    const delays = recordingSleep(c);
    const jitters = [0, 1, 0.5];
    c._random = () => jitters.shift();
    await c.models.list();
    assert.deepEqual(delays, [500, 750, 1750]);
  });

  it("gives up after maxRetries and throws the last error, typed", async () => {
    const fetch = fakeFetch(() => errorEnvelope(500, "server_error", "boom", { requestId: "req_5" }));
    const c = client(fetch);
    recordingSleep(c);
    await assert.rejects(c.models.list(), (err) => {
      assert.ok(err instanceof InternalServerError);
      assert.equal(err.status, 500);
      assert.equal(err.requestId, "req_5");
      return true;
    });
    assert.equal(fetch.calls.length, 3, "one attempt and two retries");
    const once = fakeFetch(() => errorEnvelope(500, "server_error", "boom"));
    const c0 = client(once);
    await assert.rejects(c0.models.list({ maxRetries: 0 }), InternalServerError);
    assert.equal(once.calls.length, 1);
  });

  it("retries a 409 only while the original request is in progress", async () => {
    const fetch = fakeFetch(
      () =>
        errorEnvelope(409, "request_in_progress", "still running", {
          param: "Idempotency-Key",
          headers: { "retry-after": "1" },
        }),
      () => json({ id: "job_1", object: "job", kind: "tts", model: "piper", status: "queued", progress: 0 }, 202),
    );
    const c = client(fetch);
    const delays = recordingSleep(c);
    const job = await c.audio.speech.create(
      { model: "piper", voice: "joe", input: "Hi", wait: false },
      { idempotencyKey: "mine-1" },
    );
    assert.equal(job.id, "job_1");
    assert.deepEqual(delays, [1000]);
    assert.deepEqual(
      fetch.calls.map((call) => call.headers.get("idempotency-key")),
      ["mine-1", "mine-1"],
    );

    const conflict = fakeFetch(() =>
      errorEnvelope(409, "conflict", "key reused for another body", { param: "Idempotency-Key" }),
    );
    const c2 = client(conflict);
    recordingSleep(c2);
    await assert.rejects(c2.audio.speech.create({ model: "piper", voice: "joe", input: "x" }), ConflictError);
    assert.equal(conflict.calls.length, 1);
  });

  it("does not retry other 4xx, and follows x-should-retry", async () => {
    const fetch = fakeFetch(() => errorEnvelope(400, "invalid_request", "bad speed", { param: "speed" }));
    const c = client(fetch);
    recordingSleep(c);
    await assert.rejects(c.models.list(), BadRequestError);
    assert.equal(fetch.calls.length, 1);

    const hinted = fakeFetch(() =>
      errorEnvelope(503, "server_error", "no", { headers: { "x-should-retry": "false" } }),
    );
    const c2 = client(hinted);
    recordingSleep(c2);
    await assert.rejects(c2.models.list(), InternalServerError);
    assert.equal(hinted.calls.length, 1);

    const forced = fakeFetch(
      () => errorEnvelope(400, "invalid_request", "x", { headers: { "x-should-retry": "true" } }),
      () => json(MODELS),
    );
    const c3 = client(forced);
    recordingSleep(c3);
    await c3.models.list();
    assert.equal(forced.calls.length, 2);
  });

  it("retries connection errors, then throws APIConnectionError with the cause", async () => {
    const refused = new TypeError("fetch failed", {
      cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
    });
    const fetch = fakeFetch(() => {
      throw refused;
    });
    const c = client(fetch);
    const delays = recordingSleep(c);
    await assert.rejects(c.models.list(), (err) => {
      assert.ok(err instanceof APIConnectionError && !(err instanceof APITimeoutError));
      assert.equal(err.cause, refused);
      assert.match(err.message, /Could not reach the API at http:\/\/api\.test\/v1\/.*ECONNREFUSED/);
      return true;
    });
    assert.equal(fetch.calls.length, 3);
    assert.equal(delays.length, 2);
    // a GET carries no Idempotency-Key
    assert.equal(fetch.calls[0].headers.get("idempotency-key"), null);
  });
});

describe("timeouts and abort signals", () => {
  it("times an attempt out, retries it, and throws APITimeoutError", async () => {
    const fetch = fakeFetch(hang);
    const c = client(fetch, { timeout: 30 });
    recordingSleep(c);
    const started = Date.now();
    await assert.rejects(c.models.list(), APITimeoutError);
    assert.equal(fetch.calls.length, 3);
    assert.ok(Date.now() - started < 2000);
    const once = fakeFetch(hang, () => json(MODELS));
    const c2 = client(once);
    recordingSleep(c2);
    const list = await c2.models.list({ timeout: 20 });
    assert.equal(list.data[0].id, "piper");
  });

  it("times out a streamed body that goes silent", async () => {
    const fetch = fakeFetch((call) =>
      chunked(["ID3", "more"], { headers: { "content-type": "audio/mpeg" }, stallAfter: 1, signal: call.init.signal }),
    );
    const c = client(fetch, { timeout: 50 });
    const audio = await c.audio.speech.create({ model: "piper", voice: "joe", input: "Hi" });
    const reader = audio.stream().getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), "ID3");
    await assert.rejects(reader.read(), APITimeoutError);
  });

  it("aborts with the caller's signal: during the request, during a retry wait, and before it starts", async () => {
    const fetch = fakeFetch(hang);
    const c = client(fetch);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(c.models.list({ signal: controller.signal }), APIUserAbortError);
    assert.equal(fetch.calls.length, 1, "an abort is never retried");

    const failing = fakeFetch(() => errorEnvelope(503, "server_error", "busy", { headers: { "retry-after": "30" } }));
    const c2 = client(failing);
    const during = new AbortController();
    setTimeout(() => during.abort(), 30);
    const started = Date.now();
    await assert.rejects(c2.models.list({ signal: during.signal }), APIUserAbortError);
    assert.ok(Date.now() - started < 5000, "the 30 s Retry-After wait was cut short");
    assert.equal(failing.calls.length, 1);

    const never = fakeFetch(() => json(MODELS));
    await assert.rejects(client(never).models.list({ signal: AbortSignal.abort() }), APIUserAbortError);
    assert.equal(never.calls.length, 0);
  });
});

describe("error mapping", () => {
  const cases = [
    [404, "model_not_found", ModelNotFoundError],
    [404, "model_not_installed", ModelNotInstalledError],
    [404, "not_found", NotFoundError],
    [401, "invalid_api_key", AuthenticationError],
    [422, "invalid_request", UnprocessableEntityError],
    [429, "rate_limit_exceeded", RateLimitError],
    [503, "model_unavailable", ModelUnavailableError],
    // a code never contradicts its status
    [404, "invalid_api_key", NotFoundError],
  ];
  for (const [status, code, cls] of cases) {
    it(`${status} ${code} -> ${cls.name}`, async () => {
      const fetch = fakeFetch(() =>
        errorEnvelope(status, code, "what went wrong", { param: "model", requestId: "req_abc" }),
      );
      await assert.rejects(client(fetch, { maxRetries: 0 }).models.retrieve("x"), (err) => {
        assert.equal(err.constructor, cls);
        assert.ok(err instanceof APIError);
        assert.equal(err.status, status);
        assert.equal(err.code, code);
        assert.equal(err.param, "model");
        assert.equal(err.requestId, "req_abc");
        assert.equal(err.error, "what went wrong");
        assert.equal(err.message, `what went wrong [${status}, ${code}, param model, request req_abc]`);
        assert.deepEqual(err.body.error.code, code);
        return true;
      });
    });
  }

  it("takes the request id from x-request-id when the body has none, and keeps a non-JSON body", async () => {
    const fetch = fakeFetch(
      () =>
        new Response("<html>bad gateway</html>", {
          status: 502,
          statusText: "Bad Gateway",
          headers: { "x-request-id": "req_hdr" },
        }),
    );
    await assert.rejects(client(fetch, { maxRetries: 0 }).models.list(), (err) => {
      assert.ok(err instanceof InternalServerError);
      assert.equal(err.requestId, "req_hdr");
      assert.equal(err.code, undefined);
      assert.equal(err.body, "<html>bad gateway</html>");
      assert.match(err.message, /^HTTP 502 Bad Gateway: <html>bad gateway<\/html> \[502, request req_hdr\]$/);
      return true;
    });
  });

  it("says when a 200 is not the JSON it should be", async () => {
    const fetch = fakeFetch(
      () => new Response("<html>not an API</html>", { headers: { "content-type": "text/html", "x-request-id": "r1" } }),
    );
    await assert.rejects(client(fetch).models.list(), (err) => {
      assert.ok(err instanceof APIError);
      assert.equal(err.requestId, "r1");
      assert.match(err.message, /not a valid model list; is baseURL pointing at a Speech to Speech AI server\?/);
      return true;
    });
  });
});
