// Live: the official `openai` npm package pointed at the server: speech, transcriptions, models, typed errors.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";

import OpenAI, { toFile } from "openai";

import { API_KEY, BASE_URL, container, skipUnlessLive, testText, testdata, wer } from "./env.mjs";

// the openai package's uploads need a global File, which Node 18 lacks (its own error message says to do this)
if (typeof globalThis.File === "undefined") globalThis.File = (await import("node:buffer")).File;

describe("live: the openai package", { skip: skipUnlessLive }, () => {
  let oa;
  before(() => {
    oa = new OpenAI({ baseURL: `${BASE_URL?.replace(/\/+$/, "")}/v1`, apiKey: API_KEY, maxRetries: 0 });
  });

  it("creates speech", async () => {
    const response = await oa.audio.speech.create({
      model: "piper",
      voice: "joe",
      input: "Hello from the OpenAI client.",
      response_format: "wav",
    });
    const bytes = new Uint8Array(await response.arrayBuffer());
    assert.equal(container(bytes), "wav");
    assert.ok(bytes.length > 20_000, `${bytes.length} bytes`);
  });

  it("transcribes a real recording", async () => {
    const file = await toFile(await testdata("jfk.flac"), "jfk.flac", { type: "audio/flac" });
    const result = await oa.audio.transcriptions.create({ model: "whisper-base", file });
    assert.ok(wer(await testText("jfk.txt"), result.text) <= 0.1, result.text);
    const srt = await oa.audio.transcriptions.create({
      model: "whisper-tiny.en",
      file: await toFile(await testdata("jfk.flac"), "jfk.flac"),
      response_format: "srt",
    });
    assert.match(srt, /-->/);
  });

  it("lists the models", async () => {
    const ids = [];
    for await (const model of oa.models.list()) ids.push(model.id);
    for (const id of ["piper", "whisper-base"]) assert.ok(ids.includes(id), `${id} in ${ids}`);
  });

  it("gets the server's errors as its own typed errors", async () => {
    await assert.rejects(oa.audio.speech.create({ model: "no-such-model", voice: "joe", input: "x" }), (err) => {
      assert.ok(err instanceof OpenAI.NotFoundError);
      assert.equal(err.status, 404);
      assert.equal(err.error?.code ?? err.code, "model_not_found");
      return true;
    });
    const bad = new OpenAI({ baseURL: `${BASE_URL?.replace(/\/+$/, "")}/v1`, apiKey: "wrong", maxRetries: 0 });
    await assert.rejects(bad.models.list(), OpenAI.AuthenticationError);
  });
});
