// The CommonJS build, loaded with require(), works like the ES module build.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { it } from "node:test";

import * as esm from "speechtospeechai";

import { errorEnvelope, fakeFetch, json } from "./helpers.mjs";

const require = createRequire(import.meta.url);

it("require('speechtospeechai') gives the CommonJS build with the same surface", async () => {
  const cjs = require("speechtospeechai");
  assert.match(require.resolve("speechtospeechai"), /dist[\\/]cjs[\\/]index\.js$/);
  assert.deepEqual(
    Object.keys(cjs)
      .filter((k) => k !== "__esModule")
      .sort(),
    Object.keys(esm).sort(),
  );
  assert.equal(cjs.default, cjs.Client);
  const fetch = fakeFetch(
    () => json({ object: "list", data: [{ id: "piper", object: "model", kind: "tts" }] }),
    () => errorEnvelope(404, "model_not_found", "No model 'nope'.", { requestId: "req_1" }),
  );
  const client = new cjs.Client({ apiKey: "k", baseURL: "http://api.test", fetch });
  assert.equal((await client.models.list()).data[0].id, "piper");
  await assert.rejects(
    client.models.retrieve("nope"),
    (err) => err instanceof cjs.ModelNotFoundError && err.requestId === "req_1",
  );
});
