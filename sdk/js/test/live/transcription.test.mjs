// Live: speech to text against the real server (Whisper on the Celery worker): a real recording in every
// response format, word timestamps, the SSE stream, an async job, translation and diarization.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";

import { BadRequestError, Client } from "speechtospeechai";

import { API_KEY, BASE_URL, skipUnlessLive, testText, testdata, wer, words } from "./env.mjs";

describe("live: transcriptions", { skip: skipUnlessLive }, () => {
  let client;
  let jfk;
  let reference;
  before(async () => {
    client = new Client({ apiKey: API_KEY, baseURL: BASE_URL });
    jfk = { data: await testdata("jfk.flac"), name: "jfk.flac" };
    reference = await testText("jfk.txt");
  });

  it("transcribes jfk.flac with word timestamps", async () => {
    const result = await client.audio.transcriptions.create({
      file: jfk,
      model: "whisper-base",
      timestamp_granularities: ["word"],
    });
    assert.ok(wer(reference, result.text) <= 0.1, `WER ${wer(reference, result.text)}: ${result.text}`);
    assert.equal(result.language, "en");
    assert.ok(Math.abs(result.duration - 11) < 0.2, `duration ${result.duration}`);
    assert.ok(result.segments.length > 0 && result.segments.every((s) => s.end > s.start));
    assert.ok(result.words.length >= 15, `${result.words.length} words`);
    for (let i = 1; i < result.words.length; i++) assert.ok(result.words[i - 1].start <= result.words[i].start);
    assert.ok(words(result.words.map((w) => w.word).join(" ")).includes("country"));
  });

  it("answers every response format: text ones as strings, JSON ones as objects", async () => {
    const model = "whisper-tiny.en";
    const text = await client.audio.transcriptions.create({ file: jfk, model, response_format: "text" });
    assert.equal(typeof text, "string");
    assert.ok(wer(reference, text) <= 0.15, text);
    const srt = await client.audio.transcriptions.create({ file: jfk, model, response_format: "srt" });
    assert.match(srt, /^1\n00:00:00,000 --> 00:00:\d\d,\d{3}\n/);
    assert.ok(srt.toLowerCase().includes("ask not what your country can do for you"), srt);
    const vtt = await client.audio.transcriptions.create({ file: jfk, model, response_format: "vtt" });
    assert.match(vtt, /^WEBVTT\n/);
    assert.match(vtt, /\n(\d\d:)?\d\d:\d\d\.\d{3} --> (\d\d:)?\d\d:\d\d\.\d{3}\n/);
    const verbose = await client.audio.transcriptions.create({ file: jfk, model, response_format: "verbose_json" });
    assert.equal(verbose.task, "transcribe");
    assert.ok(verbose.segments.length > 0 && "avg_logprob" in verbose.segments[0]);
    const diarized = await client.audio.transcriptions.create({ file: jfk, model, response_format: "diarized_json" });
    assert.ok(diarized.segments.length > 0 && diarized.segments.every((s) => typeof s.speaker === "string"));
    const rttm = await client.audio.transcriptions.create({ file: jfk, model, response_format: "rttm" });
    assert.match(rttm, /^SPEAKER \S+ 1 \d+\.\d+ \d+\.\d+ <NA> <NA> \S+ <NA> <NA>$/m);
  });

  it("streams the transcript as Server-Sent Events: deltas, then the whole transcription", async () => {
    const file = { data: await testdata("leopard_test_en.wav"), name: "leopard_test_en.wav" };
    const started = performance.now();
    const stream = client.audio.transcriptions.stream({ file, model: "whisper-base" });
    const arrivals = [];
    const deltas = [];
    let done;
    for await (const event of stream) {
      arrivals.push(performance.now() - started);
      if (event.type === "transcript.text.delta") deltas.push(event.delta);
      else done = event;
    }
    assert.ok(deltas.length >= 1, "at least one delta before the end");
    assert.equal(done.type, "transcript.text.done");
    assert.match(stream.jobId, /^job_/);
    assert.equal(done.job_id, stream.jobId);
    // the deltas add up to the final text; the done event carries the json transcription
    assert.equal(words(deltas.join("")).join(" "), words(done.text).join(" "));
    assert.ok(Array.isArray(done.segments) && done.segments.length === deltas.length);
    assert.ok(wer(await testText("leopard_test_en.txt"), done.text) <= 0.2, done.text);
    assert.ok(arrivals[0] <= arrivals[arrivals.length - 1]);
  });

  it("runs as a background job with wait: false, then jobs.wait and the rendered result", async () => {
    const job = await client.audio.transcriptions.create({ file: jfk, model: "whisper-tiny.en", wait: false });
    assert.match(job.id, /^job_/);
    assert.ok(["queued", "running", "succeeded"].includes(job.status), job.status);
    const progress = [];
    const finished = await client.jobs.wait(job.id, {
      timeout: 120_000,
      pollInterval: 250,
      onProgress: (j) => progress.push(j.status),
    });
    assert.equal(finished.status, "succeeded");
    assert.ok(progress.length >= 1);
    const srt = await client.jobs.transcription(job.id, { response_format: "srt" });
    assert.match(srt, /-->/);
    const result = await client.jobs.result(job.id, { response_format: "vtt" });
    assert.match(result.contentType, /^text\/vtt/);
    assert.match(await result.text(), /^WEBVTT/);
    const listed = await client.jobs.list({ limit: 5, kind: "stt" });
    assert.ok(listed.data.some((j) => j.id === job.id));
  });

  it("translates German speech to English, and finds who spoke when", async () => {
    const german = { data: await testdata("leopard_test_de.wav"), name: "leopard_test_de.wav" };
    const english = await client.audio.translations.create({ file: german, model: "whisper-base" });
    const found = new Set(words(english.text));
    assert.ok(
      ["the", "room"].some((w) => found.has(w)) && !["der", "raum", "wurde"].some((w) => found.has(w)),
      english.text,
    );
    const turns = await client.audio.diarization.create({ file: jfk, model: "whisper-tiny.en" });
    assert.ok(turns.turns.length >= 1 && turns.speakers.length >= 1);
    assert.ok(turns.turns.every((t) => t.end > t.start && typeof t.speaker === "string"));
  });

  it("refuses a text-to-speech model for transcription, typed", async () => {
    await assert.rejects(client.audio.transcriptions.create({ file: jfk, model: "piper" }), (err) => {
      assert.ok(err instanceof BadRequestError);
      assert.match(err.message, /text-to-speech/);
      return true;
    });
  });
});
