// The resources against a local fake fetch: request bodies (JSON and multipart), every transcription format,
// the 202 path (poll the job, then fetch its result), audio saved as it streams.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";

import { Client, JobFailedError, JobTimeoutError, SpeechResponse } from "speechtospeechai";

import { chunked, fakeFetch, json, recordingSleep } from "./helpers.mjs";

function client(fetch) {
  return new Client({ apiKey: "test-key", baseURL: "http://api.test", fetch });
}

const job = (status, extra = {}) => ({
  id: "job_9",
  object: "job",
  kind: "stt",
  model: "whisper-base",
  status,
  progress: status === "succeeded" ? 1 : 0.5,
  attempts: 1,
  created_at: "2026-12-02T00:00:00Z",
  ...extra,
});

/** The multipart body a request sent, parsed back by the platform's own Request. */
async function sentForm(call) {
  return new Request("http://x", { method: "POST", body: call.init.body }).formData();
}

describe("speech", () => {
  it("posts the JSON body (format from response_format, unset fields left out) and streams the audio", async () => {
    const fetch = fakeFetch(() =>
      chunked(["OggS", "-chunk-2", "-chunk-3"], { headers: { "content-type": "audio/ogg", "x-job-id": "job_s" } }),
    );
    const audio = await client(fetch).audio.speech.create({
      model: "piper",
      voice: "joe",
      input: "Hello",
      response_format: "ogg",
      speed: 1.25,
      emotion: undefined,
    });
    const call = fetch.calls[0];
    assert.equal(call.url.pathname, "/v1/audio/speech");
    assert.equal(call.init.method, "POST");
    assert.equal(call.headers.get("content-type"), "application/json");
    assert.deepEqual(JSON.parse(call.init.body), {
      model: "piper",
      voice: "joe",
      input: "Hello",
      speed: 1.25,
      format: "ogg",
    });
    assert.ok(audio instanceof SpeechResponse);
    assert.equal(audio.contentType, "audio/ogg");
    const chunks = [];
    for await (const chunk of audio) chunks.push(new TextDecoder().decode(chunk));
    assert.deepEqual(chunks, ["OggS", "-chunk-2", "-chunk-3"], "the body arrives chunk by chunk, not buffered whole");
  });

  it("saves the audio to a file in Node", async () => {
    const dir = await mkdtemp(join(tmpdir(), "s2s-js-"));
    try {
      const fetch = fakeFetch(() => chunked(["RIFF", "....WAVE"], { headers: { "content-type": "audio/wav" } }));
      const audio = await client(fetch).audio.speech.create({
        model: "piper",
        voice: "joe",
        input: "x",
        format: "wav",
      });
      const path = await audio.save(join(dir, "out.wav"));
      assert.equal(await readFile(path, "utf8"), "RIFF....WAVE");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses disagreeing format and response_format", async () => {
    await assert.rejects(
      client(fakeFetch()).audio.speech.create({
        model: "p",
        voice: "v",
        input: "x",
        format: "wav",
        response_format: "mp3",
      }),
      /disagree/,
    );
  });

  it("waits for a job the server answered 202 and fetches its audio; wait: false returns the job", async () => {
    const fetch = fakeFetch(
      () => json(job("queued", { kind: "tts" }), 202),
      () => json(job("running", { kind: "tts" })),
      () => json(job("succeeded", { kind: "tts" })),
      () => new Response("ID3audio", { headers: { "content-type": "audio/mpeg", "x-job-id": "job_9" } }),
    );
    const c = client(fetch);
    const delays = recordingSleep(c);
    const audio = await c.audio.speech.create({ model: "piper", voice: "joe", input: "long text" });
    assert.equal(await audio.text(), "ID3audio");
    assert.deepEqual(
      fetch.calls.map((call) => `${call.init.method} ${call.url.pathname}`),
      ["POST /v1/audio/speech", "GET /v1/jobs/job_9", "GET /v1/jobs/job_9", "GET /v1/jobs/job_9/result"],
    );
    assert.deepEqual(delays, [1000]);

    const queued = fakeFetch(() => json(job("queued", { kind: "tts" }), 202));
    const result = await client(queued).audio.speech.create({ model: "piper", voice: "joe", input: "x", wait: false });
    assert.equal(result.id, "job_9");
    assert.equal(JSON.parse(queued.calls[0].init.body).async, true);
  });

  it("a job that fails while waited for throws JobFailedError with the server's code", async () => {
    const fetch = fakeFetch(
      () => json(job("queued"), 202),
      () => json(job("failed", { error: { code: "invalid_audio", message: "The file is not audio." } })),
    );
    const c = client(fetch);
    recordingSleep(c);
    await assert.rejects(c.audio.transcriptions.create({ file: new Uint8Array([1]) }), (err) => {
      assert.ok(err instanceof JobFailedError);
      assert.equal(err.code, "invalid_audio");
      assert.equal(err.job.id, "job_9");
      return true;
    });
  });
});

describe("transcriptions", () => {
  it("sends a multipart form: the file with its name and type, scalars, booleans, repeated fields", async () => {
    const fetch = fakeFetch(() => json({ text: "hello", segments: [] }));
    const bytes = new Uint8Array([0x66, 0x4c, 0x61, 0x43, 0, 1, 2]);
    await client(fetch).audio.transcriptions.create({
      file: { data: bytes, name: "jfk.flac" },
      model: "whisper-base",
      language: "en",
      diarize: true,
      num_speakers: 2,
      timestamp_granularities: ["segment", "word"],
      temperature: 0,
      known_speakers: ["voice_a", "voice_b"],
    });
    const call = fetch.calls[0];
    assert.equal(call.url.pathname, "/v1/audio/transcriptions");
    assert.ok(call.init.body instanceof FormData);
    assert.equal(call.headers.get("content-type"), null, "fetch sets the multipart boundary itself");
    const form = await sentForm(call);
    assert.equal(form.get("model"), "whisper-base");
    assert.equal(form.get("language"), "en");
    assert.equal(form.get("diarization"), "true");
    assert.equal(form.get("num_speakers"), "2");
    assert.equal(form.get("timestamps"), "word");
    assert.equal(form.get("temperature"), "0");
    assert.deepEqual(form.getAll("known_speakers"), ["voice_a", "voice_b"]);
    assert.equal(form.get("response_format"), null);
    const file = form.get("file");
    assert.equal(file.name, "jfk.flac");
    assert.equal(file.type, "audio/flac");
    assert.deepEqual([...new Uint8Array(await file.arrayBuffer())], [...bytes]);
  });

  it("sends known speakers given as recordings as OpenAI's names[] and data-URL references[]", async () => {
    const fetch = fakeFetch(() => json({ text: "x", segments: [] }));
    await client(fetch).audio.transcriptions.create({
      file: new Blob([new Uint8Array([1])], { type: "audio/wav" }),
      known_speakers: { Ann: { data: new Uint8Array([82, 73, 70, 70]), name: "ann.wav" } },
    });
    const form = await sentForm(fetch.calls[0]);
    assert.deepEqual(form.getAll("known_speaker_names[]"), ["Ann"]);
    assert.deepEqual(form.getAll("known_speaker_references[]"), ["data:audio/wav;base64,UklGRg=="]);
    assert.equal(form.get("file").name, "upload");
  });

  it("reads a path in Node, and says so when it does not exist", async () => {
    const dir = await mkdtemp(join(tmpdir(), "s2s-js-"));
    try {
      const { writeFile } = await import("node:fs/promises");
      await writeFile(join(dir, "clip.wav"), "RIFFdata");
      const fetch = fakeFetch(() => json({ text: "x", segments: [] }));
      await client(fetch).audio.transcriptions.create({ file: join(dir, "clip.wav") });
      const file = (await sentForm(fetch.calls[0])).get("file");
      assert.equal(file.name, "clip.wav");
      assert.equal(file.type, "audio/wav");
      assert.equal(await file.text(), "RIFFdata");
      await assert.rejects(
        client(fetch).audio.transcriptions.create({ file: join(dir, "missing.wav") }),
        /No such file/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("resolves every text format with a string and every JSON format with a Transcription", async () => {
    const bodies = {
      text: "And so my fellow Americans",
      srt: "1\n00:00:00,000 --> 00:00:02,000\nAnd so\n",
      vtt: "WEBVTT\n\n00:00.000 --> 00:02.000\nAnd so\n",
      rttm: "SPEAKER upload 1 0.000 2.000 <NA> <NA> SPEAKER_00 <NA> <NA>\n",
    };
    for (const [format, body] of Object.entries(bodies)) {
      const fetch = fakeFetch(() => new Response(body, { headers: { "content-type": "text/plain" } }));
      const result = await client(fetch).audio.transcriptions.create({
        file: new Uint8Array([1]),
        response_format: format,
      });
      assert.equal(result, body, format);
      assert.equal((await sentForm(fetch.calls[0])).get("response_format"), format);
    }
    const segments = [
      {
        id: 0,
        start: 0,
        end: 1,
        text: "And so",
        words: [
          { start: 0, end: 0.5, word: "And" },
          { start: 0.5, end: 1, word: "so" },
        ],
      },
    ];
    for (const format of ["json", "verbose_json", "diarized_json"]) {
      const fetch = fakeFetch(() => json({ text: "And so", language: "en", segments }));
      const result = await client(fetch).audio.transcriptions.create({
        file: new Uint8Array([1]),
        response_format: format,
      });
      assert.equal(result.text, "And so");
      // words kept only inside segments are gathered at the top, as the Python SDK does
      assert.deepEqual(
        result.words.map((w) => w.word),
        ["And", "so"],
      );
    }
  });

  it("wait: false sends async=true and resolves with the job; a 202 is followed to the job's rendered result", async () => {
    const queued = fakeFetch(() => json(job("queued"), 202));
    const j = await client(queued).audio.transcriptions.create({ file: new Uint8Array([1]), wait: false });
    assert.equal(j.status, "queued");
    assert.equal((await sentForm(queued.calls[0])).get("async"), "true");

    const fetch = fakeFetch(
      () => json(job("queued"), 202),
      () => json(job("succeeded")),
      () => new Response("WEBVTT\n", { headers: { "content-type": "text/vtt" } }),
    );
    const c = client(fetch);
    recordingSleep(c);
    const vtt = await c.audio.transcriptions.create({ file: new Uint8Array([1]), response_format: "vtt" });
    assert.equal(vtt, "WEBVTT\n");
    assert.equal(fetch.calls[2].url.pathname + fetch.calls[2].url.search, "/v1/jobs/job_9/result?response_format=vtt");
  });

  it("requires a file or a file_id", async () => {
    await assert.rejects(client(fakeFetch()).audio.transcriptions.create({ model: "whisper-base" }), /file_id/);
  });
});

describe("other resources", () => {
  it("clones with one sample in `file`, several in repeated `files`, consent and labels as the form wants", async () => {
    const voice = { id: "voice_1", object: "voice", name: "Me", model: "piper", status: "ready", labels: {} };
    const fetch = fakeFetch(() => json(voice));
    const c = client(fetch);
    await c.voices.clone({ name: "Me", files: [new Uint8Array([1])], consent: true, labels: { accent: "Irish" } });
    let form = await sentForm(fetch.calls[0]);
    assert.equal(fetch.calls[0].url.pathname, "/v1/voices/clone");
    assert.equal(form.getAll("file").length, 1);
    assert.equal(form.get("consent"), "true");
    assert.equal(form.get("labels"), '{"accent":"Irish"}');
    assert.equal(form.get("async"), null);
    await c.voices.clone({
      name: "Me",
      files: [new Uint8Array([1]), new Uint8Array([2])],
      consent_statement: "signed",
    });
    form = await sentForm(fetch.calls[1]);
    assert.equal(form.getAll("files").length, 2);
    assert.equal(form.get("consent"), null);
    assert.equal(form.get("consent_statement"), "signed");
  });

  it("a clone answered 202 is waited for, then the voice is read again", async () => {
    const fetch = fakeFetch(
      () => json({ id: "voice_1", status: "processing", job_id: "job_9" }, 202),
      () => json(job("succeeded", { kind: "clone" })),
      () => json({ id: "voice_1", status: "ready" }),
    );
    const c = client(fetch);
    recordingSleep(c);
    const voice = await c.voices.clone({ name: "Me", file: new Uint8Array([1]), consent: true });
    assert.equal(voice.status, "ready");
    assert.deepEqual(
      fetch.calls.map((call) => call.url.pathname),
      ["/v1/voices/clone", "/v1/jobs/job_9", "/v1/voices/voice_1"],
    );
  });

  it("builds query strings and path segments safely", async () => {
    const fetch = fakeFetch(() => json({ object: "list", data: [], has_more: false }));
    const c = client(fetch);
    await c.jobs.list({ limit: 5, after: "job_1", status: "running", kind: undefined });
    assert.equal(fetch.calls[0].url.search, "?limit=5&after=job_1&status=running");
    await c.jobs.list({ state: "queued" });
    assert.equal(fetch.calls.at(-1).url.search, "?status=queued");
    fetch.calls.pop();
    await c.usage.list({ from: new Date("2026-11-01T12:00:00Z"), to: "2026-11-30" });
    assert.equal(fetch.calls[1].url.pathname + fetch.calls[1].url.search, "/v1/usage?from=2026-11-01&to=2026-11-30");
    await c.voices.retrieve("../admin");
    assert.equal(fetch.calls[2].url.pathname, "/v1/voices/..%2Fadmin");
    await c.account.keys.revoke("key_1");
    assert.equal(`${fetch.calls[3].init.method} ${fetch.calls[3].url.pathname}`, "DELETE /v1/account/keys/key_1");
    await c.account.keys.create({ name: "ci", requests_per_minute: 60 });
    assert.deepEqual(JSON.parse(fetch.calls[4].init.body), { name: "ci", requests_per_minute: 60 });
    assert.ok(fetch.calls[4].headers.get("idempotency-key"));
  });

  it("jobs.wait reports progress and gives up with JobTimeoutError", async () => {
    const fetch = fakeFetch(() => json(job("running")));
    const c = client(fetch);
    const seen = [];
    await assert.rejects(
      c.jobs.wait("job_9", { timeout: 60, pollInterval: 10, onProgress: (j) => seen.push(j.progress) }),
      (err) => err instanceof JobTimeoutError && err.job.id === "job_9" && /still running/.test(err.message),
    );
    assert.ok(seen.length >= 2 && seen.every((p) => p === 0.5));
  });

  it("batches.iterItems pages through every item", async () => {
    const item = (n) => ({ id: `bi_${n}`, object: "batch.item", custom_id: `c${n}`, line: n, status: "succeeded" });
    const fetch = fakeFetch(
      () => json({ object: "list", data: [item(1), item(2)], has_more: true, last_id: "bi_2" }),
      () => json({ object: "list", data: [item(3)], has_more: false, last_id: "bi_3" }),
    );
    const ids = [];
    for await (const it of client(fetch).batches.iterItems("batch_1")) ids.push(it.id);
    assert.deepEqual(ids, ["bi_1", "bi_2", "bi_3"]);
    assert.equal(fetch.calls[1].url.searchParams.get("after"), "bi_2");
  });
});
