// Live: the voice library against the real server: consent is required, a voice cloned from a real recording is
// spoken with, listed, previewed, renamed and deleted.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";

import { BadRequestError, Client, VoiceNotFoundError } from "speechtospeechai";

import { API_KEY, BASE_URL, container, skipUnlessLive, testdata } from "./env.mjs";

describe("live: voices", { skip: skipUnlessLive }, () => {
  let client;
  let sample;
  before(async () => {
    client = new Client({ apiKey: API_KEY, baseURL: BASE_URL });
    sample = { data: await testdata("jfk.flac"), name: "jfk.flac" };
  });

  it("refuses to clone without the speaker's consent, saying how to give it", async () => {
    await assert.rejects(client.voices.clone({ name: "No consent", files: [sample], model: "piper" }), (err) => {
      assert.ok(err instanceof BadRequestError);
      assert.equal(err.param, "consent");
      assert.match(err.message, /consent=true/);
      return true;
    });
  });

  it("clones a voice from a real recording, speaks with it, lists, previews, renames and deletes it", async () => {
    const voice = await client.voices.clone({
      name: "JS SDK voice",
      files: [sample],
      model: "piper",
      language: "en",
      consent: true,
      description: "A 1961 speech",
      labels: { accent: "American", use_case: "speeches" },
    });
    try {
      assert.match(voice.id, /^voice_/);
      assert.equal(voice.status, "ready", "clone() waits until enrollment ends");
      assert.equal(voice.name, "JS SDK voice");
      assert.equal(voice.consent.type, "attestation");
      assert.deepEqual(voice.labels, { accent: "American", use_case: "speeches" });
      assert.ok(Math.abs(voice.samples[0].seconds - 11) < 0.2, JSON.stringify(voice.samples));
      assert.ok(voice.models.includes("piper"));

      const audio = await client.audio.speech.create({
        model: "piper",
        voice: voice.id,
        input: "This is my cloned voice speaking!",
      });
      const bytes = await audio.bytes();
      assert.equal(container(bytes), "mp3");
      assert.ok(bytes.length > 8_000, `${bytes.length} bytes`);

      const listing = await client.voices.list();
      assert.ok(listing.data.some((v) => v.id === voice.id));
      assert.ok(listing.presets.some((p) => p.id === "joe" && p.model === "piper"));

      const preview = await client.voices.preview(voice.id);
      assert.equal(preview.contentType, "audio/mpeg");
      assert.equal(container(await preview.bytes()), "mp3");

      const renamed = await client.voices.update(voice.id, { name: "Kennedy", labels: { accent: "Boston" } });
      assert.equal(renamed.name, "Kennedy");
      assert.deepEqual(renamed.labels, { accent: "Boston" });
      assert.equal(renamed.description, "A 1961 speech");
    } finally {
      const deleted = await client.voices.delete(voice.id);
      assert.deepEqual([deleted.id, deleted.deleted], [voice.id, true]);
    }
    await assert.rejects(client.voices.retrieve(voice.id), VoiceNotFoundError);
  });

  it("wait: false answers at once with the voice processing, and its job can be waited for", async () => {
    const voice = await client.voices.clone({
      name: "Async voice",
      file: sample,
      model: "piper",
      consent_statement: "Signed release, 2026-12-02",
      wait: false,
    });
    try {
      assert.ok(["processing", "ready"].includes(voice.status), voice.status);
      if (voice.job_id) {
        const job = await client.jobs.wait(voice.job_id, { timeout: 120_000, pollInterval: 250 });
        assert.equal(job.status, "succeeded");
      }
      const ready = await client.voices.retrieve(voice.id);
      assert.equal(ready.status, "ready");
      assert.equal(ready.consent.statement, "Signed release, 2026-12-02");
    } finally {
      await client.voices.delete(voice.id);
    }
  });
});
