// Live: speech against the real server (uvicorn, Celery worker, Piper): the quickstart, every container, audio
// that streams while it is synthesised, SSE, typed errors and a retried POST the server replays.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { AuthenticationError, BadRequestError, Client, ModelNotFoundError, VoiceNotFoundError } from "speechtospeechai";

import { API_KEY, BASE_URL, container, skipUnlessLive, wavSeconds } from "./env.mjs";

describe("live: speech", { skip: skipUnlessLive }, () => {
  let dir;
  let client;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "s2s-js-live-"));
    client = new Client({ apiKey: API_KEY, baseURL: BASE_URL });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("runs the quickstart: speak with piper's joe and save an MP3", async () => {
    const previous = process.cwd();
    process.chdir(dir);
    try {
      // --- the README's quickstart, as written -------------------------------------------------------
      const client = new Client(); // S2S_API_KEY and S2S_BASE_URL
      const audio = await client.audio.speech.create({
        model: "piper",
        voice: "joe",
        input: "Hello! Welcome to Speech to Speech AI.",
      });
      await audio.save("output.mp3");
      // ---------------------------------------------------------------------------------------------------
      assert.equal(audio.contentType, "audio/mpeg");
      assert.match(audio.jobId, /^job_/);
    } finally {
      process.chdir(previous);
    }
    const bytes = new Uint8Array(await readFile(join(dir, "output.mp3")));
    assert.equal(container(bytes), "mp3");
    // about two seconds of speech: more than a few kilobytes, less than a megabyte
    assert.ok(bytes.length > 8_000 && bytes.length < 1_000_000, `${bytes.length} bytes`);
  });

  it("answers every container it is asked for", async () => {
    for (const format of ["wav", "flac", "ogg", "mp3"]) {
      const audio = await client.audio.speech.create({
        model: "piper",
        voice: "joe",
        input: "One two three.",
        response_format: format,
      });
      const bytes = await audio.bytes();
      assert.equal(container(bytes), format, `${format}: ${audio.contentType}`);
      assert.ok(bytes.length > 2_000, `${format}: ${bytes.length} bytes`);
    }
    const normal = await (
      await client.audio.speech.create({
        model: "piper",
        voice: "joe",
        input: "The quick brown fox jumps over the lazy dog.",
        format: "wav",
      })
    ).bytes();
    const fast = await (
      await client.audio.speech.create({
        model: "piper",
        voice: "joe",
        input: "The quick brown fox jumps over the lazy dog.",
        format: "wav",
        speed: 1.8,
      })
    ).bytes();
    assert.ok(
      wavSeconds(fast) < 0.75 * wavSeconds(normal),
      `speed 1.8: ${wavSeconds(fast)} s vs ${wavSeconds(normal)} s`,
    );
  });

  it("streams: the first audio arrives while later sentences are still being synthesised", async () => {
    const text =
      "The first sentence comes out at once. The second one follows a moment later. " +
      "Then a third, longer one, about streaming audio over plain HTTP. And a fourth to finish the paragraph.";
    const started = performance.now();
    const audio = await client.audio.speech.create({
      model: "piper",
      voice: "joe",
      input: text,
      format: "wav",
      stream: true,
    });
    const arrivals = [];
    const chunks = [];
    for await (const chunk of audio.stream()) {
      arrivals.push(performance.now());
      chunks.push(chunk);
    }
    const firstChunk = arrivals[0] - started;
    const total = arrivals[arrivals.length - 1] - started;
    const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    chunks.reduce((offset, c) => (bytes.set(c, offset), offset + c.length), 0);
    assert.ok(chunks.length > 1, `${chunks.length} chunk(s)`);
    // a whole file arrives within milliseconds; streamed audio arrives clause by clause
    assert.ok(
      total - firstChunk > 200,
      `first chunk after ${firstChunk.toFixed(0)} ms, last after ${total.toFixed(0)} ms`,
    );
    assert.equal(container(bytes), "wav");
    assert.ok(wavSeconds(bytes) > 6, `${wavSeconds(bytes)} s of audio`);
  });

  it("streams Server-Sent Events with base64 audio deltas", async () => {
    const stream = client.audio.speech.stream({ model: "piper", voice: "joe", input: "Events, one after another." });
    const deltas = [];
    let done;
    for await (const event of stream) {
      if (event.type === "speech.audio.delta") deltas.push(Buffer.from(event.audio, "base64"));
      else done = event;
    }
    assert.ok(deltas.length >= 1);
    assert.equal(container(new Uint8Array(Buffer.concat(deltas))), "mp3");
    assert.equal(done.type, "speech.audio.done");
    assert.equal(done.job_id, stream.jobId);
    assert.equal(done.usage.input_characters, "Events, one after another.".length);
  });

  it("throws typed errors with the server's code, param and request id", async () => {
    await assert.rejects(client.audio.speech.create({ model: "no-such-model", voice: "joe", input: "hi" }), (err) => {
      assert.ok(err instanceof ModelNotFoundError);
      assert.equal(err.status, 404);
      assert.equal(err.code, "model_not_found");
      assert.match(err.requestId, /\S/);
      return true;
    });
    await assert.rejects(
      client.audio.speech.create({ model: "piper", voice: "nobody", input: "hi" }),
      VoiceNotFoundError,
    );
    await assert.rejects(client.audio.speech.create({ model: "piper", voice: "joe", input: "hi", speed: 3 }), (err) => {
      assert.ok(err instanceof BadRequestError);
      assert.equal(err.param, "speed");
      return true;
    });
    const wrong = new Client({ apiKey: "s2s-wrong", baseURL: BASE_URL });
    await assert.rejects(
      wrong.models.list(),
      (err) => err instanceof AuthenticationError && err.status === 401 && !!err.requestId,
    );
  });

  it("a POST whose answer is lost is retried with the same Idempotency-Key and replayed, not run twice", async () => {
    const keys = [];
    let firstJob;
    const losing = async (input, init) => {
      const response = await fetch(input, init);
      keys.push(new Headers(init.headers).get("idempotency-key"));
      if (keys.length === 1) {
        firstJob = response.headers.get("x-job-id");
        await response.arrayBuffer();
        throw new TypeError("fetch failed: the connection was lost after the server answered");
      }
      return response;
    };
    const flaky = new Client({ apiKey: API_KEY, baseURL: BASE_URL, fetch: losing });
    const audio = await flaky.audio.speech.create({
      model: "piper",
      voice: "joe",
      input: "Said once, delivered twice.",
    });
    const bytes = await audio.bytes();
    assert.equal(keys.length, 2);
    assert.ok(keys[0] && keys[0] === keys[1]);
    assert.ok(firstJob && audio.jobId === firstJob, "the same job, not a second one");
    assert.equal(audio.headers.get("idempotent-replayed"), "true");
    assert.equal(container(bytes), "mp3");
  });

  it("saves a file that grows as the audio arrives", async () => {
    const path = join(dir, "streamed.flac");
    const audio = await client.audio.speech.create({
      model: "piper",
      voice: "joe",
      input: "Streaming straight to disk.",
      format: "flac",
      stream: true,
    });
    assert.equal(await audio.save(path), path);
    const bytes = new Uint8Array(await readFile(path));
    assert.equal(container(bytes), "flac");
    assert.equal((await stat(path)).size, bytes.length);
  });
});
