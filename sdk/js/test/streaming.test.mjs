// Server-Sent Events: the parser on awkward chunk boundaries, and transcriptions.stream / speech.stream as async
// iterators over a fake fetch's event stream.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Client, StreamError, parseSSE } from "speechtospeechai";

import { chunked, errorEnvelope, fakeFetch, recordingSleep } from "./helpers.mjs";

async function collect(iterable) {
  const out = [];
  for await (const item of iterable) out.push(item);
  return out;
}

function bodyOf(chunks) {
  return chunked(chunks).body;
}

const SSE = { "content-type": "text/event-stream", "x-job-id": "job_7" };

describe("parseSSE", () => {
  it("splits events on blank lines whatever the chunking, joins data lines, skips comments", async () => {
    const text =
      ': keep-alive\r\n\r\ndata: {"a":1}\r\n\r\nevent: custom\nid: 7\ndata: line one\ndata: line two\n\ndata:no-space\r\rdata: tail';
    const expected = [
      { event: "message", data: '{"a":1}' },
      { event: "custom", data: "line one\nline two", id: "7" },
      { event: "message", data: "no-space", id: "7" },
    ];
    // one chunk, then every split point (CRLF torn apart included)
    assert.deepEqual(await collect(parseSSE(bodyOf([text]))), expected);
    for (let cut = 1; cut < text.length; cut++) {
      const events = await collect(parseSSE(bodyOf([text.slice(0, cut), text.slice(cut)])));
      assert.deepEqual(events, expected, `split at ${cut}`);
    }
  });

  it("decodes UTF-8 characters split across chunks", async () => {
    const bytes = new TextEncoder().encode('data: {"delta":"Grüße, 世界"}\n\n');
    const chunks = [...bytes].map((b) => new Uint8Array([b]));
    const [event] = await collect(parseSSE(bodyOf(chunks)));
    assert.equal(JSON.parse(event.data).delta, "Grüße, 世界");
  });
});

describe("transcriptions.stream", () => {
  it("posts stream=true and yields delta events as they arrive, then the done event", async () => {
    const fetch = fakeFetch(() =>
      chunked(
        [
          'data: {"type": "transcript.text.delta", "delta": "And so,", "segment": {"id": 0, "start": 0, "end": 2, "text": "And so,"}}\n\n',
          'data: {"type": "transcript.text.delta", "delta": " my fellow", "segment": {"id": 1, "start": 2, "end": 4, "text": "my fellow"}}\n\n',
          'data: {"type": "transcript.text.done", "text": "And so, my fellow", "job_id": "job_7", "segments": []}\n\n',
        ],
        { headers: SSE, gapMs: 5 },
      ),
    );
    const c = new Client({ apiKey: "k", baseURL: "http://api.test", fetch });
    const stream = c.audio.transcriptions.stream({ file: new Uint8Array([1]), model: "whisper-base" });
    assert.equal(fetch.calls.length, 0, "nothing is sent before the iteration starts");
    const events = await collect(stream);
    assert.deepEqual(
      events.map((e) => e.type),
      ["transcript.text.delta", "transcript.text.delta", "transcript.text.done"],
    );
    assert.equal(
      events
        .slice(0, 2)
        .map((e) => e.delta)
        .join(""),
      "And so, my fellow",
    );
    assert.equal(events[2].text, "And so, my fellow");
    assert.equal(stream.jobId, "job_7");
    const call = fetch.calls[0];
    assert.equal(call.headers.get("accept"), "text/event-stream");
    const form = await new Request("http://x", { method: "POST", body: call.init.body }).formData();
    assert.equal(form.get("stream"), "true");
    assert.equal(form.get("async"), null);
  });

  it("throws StreamError on an error event (a timeout keeps the job id to wait for)", async () => {
    const fetch = fakeFetch(() =>
      chunked(
        [
          'data: {"type": "transcript.text.delta", "delta": "Hi", "segment": {"start": 0, "end": 1, "text": "Hi"}}\n\n',
          'data: {"type": "error", "error": {"code": "timeout", "job_id": "job_7", "message": "Still running; poll GET /v1/jobs/job_7."}}\n\n',
        ],
        { headers: SSE },
      ),
    );
    const c = new Client({ apiKey: "k", baseURL: "http://api.test", fetch });
    const seen = [];
    await assert.rejects(
      (async () => {
        for await (const event of c.audio.transcriptions.stream({ file: new Uint8Array([1]) })) seen.push(event.type);
      })(),
      (err) => {
        assert.ok(err instanceof StreamError);
        assert.equal(err.code, "timeout");
        assert.equal(err.jobId, "job_7");
        assert.match(err.message, /poll GET \/v1\/jobs\/job_7/);
        return true;
      },
    );
    assert.deepEqual(seen, ["transcript.text.delta"]);
  });

  it("retries the request before the stream starts, and maps an HTTP error to its typed error", async () => {
    const fetch = fakeFetch(
      () => errorEnvelope(503, "server_error", "busy"),
      () => chunked(['data: {"type": "transcript.text.done", "text": "", "job_id": "j"}\n\n'], { headers: SSE }),
    );
    const c = new Client({ apiKey: "k", baseURL: "http://api.test", fetch });
    recordingSleep(c);
    assert.equal((await collect(c.audio.transcriptions.stream({ file: new Uint8Array([1]) }))).length, 1);
    assert.equal(new Set(fetch.calls.map((call) => call.headers.get("idempotency-key"))).size, 1);
  });
});

describe("speech.stream", () => {
  it("asks for stream_format=sse and yields base64 audio deltas", async () => {
    const fetch = fakeFetch(() =>
      chunked(
        [
          'data: {"type": "speech.audio.delta", "audio": "SUQz"}\n\n',
          'data: {"type": "speech.audio.done", "job_id": "job_7", "usage": {"input_characters": 2, "duration": 0.4}}\n\n',
        ],
        { headers: SSE },
      ),
    );
    const c = new Client({ apiKey: "k", baseURL: "http://api.test", fetch });
    const events = await collect(c.audio.speech.stream({ model: "piper", voice: "joe", input: "Hi" }));
    assert.equal(atob(events[0].audio), "ID3");
    assert.equal(events[1].usage.input_characters, 2);
    assert.equal(JSON.parse(fetch.calls[0].init.body).stream_format, "sse");
  });
});
