// Speech to speech against a local fake fetch: the multipart form (voices as JSON or "auto"), the audio and its job
// id, async: true / wait: false, a 202 followed to the job's audio, Server-Sent Events, and the phrases of a job.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Client, JobFailedError, SpeechResponse } from "speechtospeechai";

import { chunked, fakeFetch, json, recordingSleep } from "./helpers.mjs";

function client(fetch) {
  return new Client({ apiKey: "test-key", baseURL: "http://api.test", fetch });
}

const job = (status, extra = {}) => ({
  id: "job_vc",
  object: "job",
  kind: "vc",
  model: "revoice",
  status,
  progress: status === "succeeded" ? 1 : 0.5,
  attempts: 1,
  created_at: "2026-12-02T00:00:00Z",
  ...extra,
});

async function sentForm(call) {
  return new Request("http://x", { method: "POST", body: call.init.body }).formData();
}

const SOURCE = { data: new Uint8Array([0x66, 0x4c, 0x61, 0x43, 1, 2]), name: "jfk.flac" };

describe("voiceConversions.create", () => {
  it("posts the form (voices as JSON text, unset fields left out); resolves with the audio and job id", async () => {
    const fetch = fakeFetch(() =>
      chunked(["RIFF", "....WAVE"], { headers: { "content-type": "audio/wav", "x-job-id": "job_vc" } }),
    );
    const audio = await client(fetch).audio.voiceConversions.create({
      file: SOURCE,
      voice: "af_bella",
      voices: { SPEAKER_00: "af_bella", SPEAKER_01: "voice_abc" },
      diarization: true,
      num_speakers: 2,
      target_language: "en",
      response_format: "wav",
      sample_rate: 16000,
      tts_model: undefined,
    });
    const call = fetch.calls[0];
    assert.equal(call.url.pathname, "/v1/audio/voice-conversions");
    assert.equal(call.init.method, "POST");
    const form = await sentForm(call);
    assert.deepEqual(Object.fromEntries([...form.entries()].filter(([k]) => k !== "file")), {
      voice: "af_bella",
      voices: '{"SPEAKER_00":"af_bella","SPEAKER_01":"voice_abc"}',
      diarization: "true",
      num_speakers: "2",
      target_language: "en",
      response_format: "wav",
      sample_rate: "16000",
    });
    assert.equal(form.get("file").name, "jfk.flac");
    assert.ok(audio instanceof SpeechResponse);
    assert.equal(audio.jobId, "job_vc");
    assert.equal(await audio.text(), "RIFF....WAVE");
  });

  it('sends voices "auto" as it is, a file_id instead of a file, and stream=true', async () => {
    const fetch = fakeFetch(() => chunked(["ID3", "..."], { headers: { "content-type": "audio/mpeg" } }));
    const audio = await client(fetch).audio.voiceConversions.create({
      file_id: "file-1",
      voices: "auto",
      diarization: true,
      stream: true,
    });
    const form = await sentForm(fetch.calls[0]);
    assert.equal(form.get("voices"), "auto");
    assert.equal(form.get("file_id"), "file-1");
    assert.equal(form.get("stream"), "true");
    assert.equal(form.get("file"), null);
    const chunks = [];
    for await (const chunk of audio) chunks.push(new TextDecoder().decode(chunk));
    assert.deepEqual(chunks, ["ID3", "..."], "the audio arrives as the server sends it");
  });

  it("async: true and wait: false send async=true and resolve with the job; a 202 is waited for", async () => {
    for (const flag of [{ async: true }, { wait: false }]) {
      const fetch = fakeFetch(() => json(job("queued"), 202));
      const queued = await client(fetch).audio.voiceConversions.create({ file: SOURCE, voice: "nova", ...flag });
      assert.equal(queued.id, "job_vc");
      assert.equal((await sentForm(fetch.calls[0])).get("async"), "true");
    }
    const fetch = fakeFetch(
      () => json(job("queued"), 202),
      () => json(job("succeeded")),
      () => new Response("ID3audio", { headers: { "content-type": "audio/mpeg", "x-job-id": "job_vc" } }),
    );
    const c = client(fetch);
    recordingSleep(c);
    const audio = await c.audio.voiceConversions.create({ file: SOURCE, voice: "nova" });
    assert.equal(await audio.text(), "ID3audio");
    assert.equal((await sentForm(fetch.calls[0])).get("async"), null);
    assert.deepEqual(
      fetch.calls.map((call) => `${call.init.method} ${call.url.pathname}`),
      ["POST /v1/audio/voice-conversions", "GET /v1/jobs/job_vc", "GET /v1/jobs/job_vc/result"],
    );
  });

  it("refuses voices other than auto, disagreeing async and wait, async streaming, no file", async () => {
    const c = client(fakeFetch());
    await assert.rejects(c.audio.voiceConversions.create({ file: SOURCE, voices: "SPEAKER_00" }), /"auto"/);
    await assert.rejects(c.audio.voiceConversions.create({ file: SOURCE, async: true, wait: true }), /disagree/);
    await assert.rejects(c.audio.voiceConversions.create({ file: SOURCE, stream: true, async: true }), /cannot also/);
    await assert.rejects(c.audio.voiceConversions.create({ voice: "nova" }), /file_id/);
  });
});

describe("voiceConversions.stream and retrieve", () => {
  it("asks for stream=true and stream_format=sse and yields base64 deltas, then the done event", async () => {
    const fetch = fakeFetch(() =>
      chunked(
        [
          'data: {"type": "conversion.audio.delta", "audio": "SUQz"}\n\n',
          'data: {"type": "conversion.audio.done", "job_id": "job_vc", "usage": {"input_seconds": 11.0, "duration": 11.0}, "text": "And so"}\n\n',
        ],
        { headers: { "content-type": "text/event-stream", "x-job-id": "job_vc" } },
      ),
    );
    const stream = client(fetch).audio.voiceConversions.stream({ file: SOURCE, voice: "af_bella" });
    const events = await stream.toArray();
    assert.equal(atob(events[0].audio), "ID3");
    assert.deepEqual(events[1].usage, { input_seconds: 11, duration: 11 });
    assert.equal(stream.jobId, "job_vc");
    const form = await sentForm(fetch.calls[0]);
    assert.equal(form.get("stream"), "true");
    assert.equal(form.get("stream_format"), "sse");
    assert.equal(fetch.calls[0].headers.get("accept"), "text/event-stream");
  });

  it("retrieve resolves with the phrases of a finished job and throws JobFailedError for a failed one", async () => {
    const result = { duration: 11, input_duration: 11, phrases: [{ start: 0.3, text: "And so", voice: "af_bella" }] };
    const fetch = fakeFetch(
      () => json(job("succeeded", { result })),
      () => json(job("failed", { error: { code: "invalid_audio", message: "No speech." } })),
    );
    const c = client(fetch);
    assert.deepEqual(await c.audio.voiceConversions.retrieve("job_vc"), result);
    await assert.rejects(
      c.audio.voiceConversions.retrieve("job_vc"),
      (err) => err instanceof JobFailedError && err.code === "invalid_audio",
    );
  });
});
