// Live: speech to speech against the real server (the revoice pipeline on the Celery worker: Whisper, then Kokoro's
// af_bella, phrase by phrase on the source's timeline): jfk.flac re-voiced keeps its length and its words, the SSE
// stream carries the same, and an unknown voice is the SDK's typed error.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";

import { Client, SpeechResponse, VoiceNotFoundError } from "speechtospeechai";

import { API_KEY, BASE_URL, container, skipUnlessLive, testdata, wavSeconds, words } from "./env.mjs";

const JFK_SECONDS = 11.0;

describe("live: voice conversions", { skip: skipUnlessLive }, () => {
  let client;
  let jfk;
  before(async () => {
    client = new Client({ apiKey: API_KEY, baseURL: BASE_URL });
    jfk = { data: await testdata("jfk.flac"), name: "jfk.flac" };
  });

  it("re-voices jfk.flac as af_bella: a WAV as long as the input, and phrases with the speech's words", async () => {
    const audio = await client.audio.voiceConversions.create({ file: jfk, voice: "af_bella", response_format: "wav" });
    assert.ok(audio instanceof SpeechResponse);
    assert.equal(audio.contentType, "audio/wav");
    assert.match(audio.jobId, /^job_/);
    const bytes = await audio.bytes();
    assert.equal(container(bytes), "wav");
    const seconds = wavSeconds(bytes);
    assert.ok(Math.abs(seconds - JFK_SECONDS) <= 0.02 * JFK_SECONDS, `${seconds} s of audio for 11 s of speech`);

    const result = await client.audio.voiceConversions.retrieve(audio.jobId);
    assert.equal(result.method, "revoice");
    assert.equal(result.format, "wav");
    assert.ok(Math.abs(result.input_duration - JFK_SECONDS) < 0.1, `input ${result.input_duration} s`);
    assert.ok(result.phrases.length >= 2, `${result.phrases.length} phrases`);
    assert.ok(result.phrases.every((p) => p.voice === "af_bella" && p.end > p.start));
    const said = words(result.phrases.map((p) => p.text).join(" "));
    assert.ok(said.includes("country"), said.join(" "));
    // what the output says, with its times, as the server renders it
    const srt = await client.jobs.transcription(audio.jobId, { response_format: "srt" });
    assert.match(srt, /^1\r?\n\d\d:\d\d:\d\d,\d{3} --> /);
  });

  it("streams the conversion as Server-Sent Events: base64 audio deltas, then the job and its usage", async () => {
    const stream = client.audio.voiceConversions.stream({ file: jfk, voice: "af_bella", response_format: "wav" });
    const deltas = [];
    let done;
    for await (const event of stream) {
      if (event.type === "conversion.audio.delta") deltas.push(Buffer.from(event.audio, "base64"));
      else done = event;
    }
    assert.ok(deltas.length >= 1);
    const bytes = new Uint8Array(Buffer.concat(deltas));
    assert.equal(container(bytes), "wav");
    const seconds = wavSeconds(bytes);
    assert.ok(Math.abs(seconds - JFK_SECONDS) <= 0.02 * JFK_SECONDS, `${seconds} s streamed`);
    assert.equal(done?.type, "conversion.audio.done");
    assert.equal(done.job_id, stream.jobId);
    assert.ok(Math.abs(done.usage.input_seconds - JFK_SECONDS) < 0.1, JSON.stringify(done.usage));
    assert.ok(words(done.text ?? "").includes("country"), done.text);
  });

  it("an unknown voice is VoiceNotFoundError, before any job runs", async () => {
    await assert.rejects(client.audio.voiceConversions.create({ file: jfk, voice: "nobody" }), (err) => {
      assert.ok(err instanceof VoiceNotFoundError, String(err));
      assert.equal(err.status, 404);
      assert.equal(err.code, "voice_not_found");
      assert.equal(err.param, "voice");
      return true;
    });
  });
});
