// Live: models, the account, usage and API keys against the real server.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";

import { AuthenticationError, Client, ModelNotFoundError, NotFoundError } from "speechtospeechai";

import { API_KEY, BASE_URL, skipUnlessLive } from "./env.mjs";

describe("live: models, account, usage, keys", { skip: skipUnlessLive }, () => {
  let client;
  before(() => {
    client = new Client({ apiKey: API_KEY, baseURL: BASE_URL });
  });

  it("lists the models and retrieves one; an unknown one is ModelNotFoundError", async () => {
    const models = await client.models.list();
    const ids = new Set(models.data.map((m) => m.id));
    for (const id of ["piper", "whisper-base", "whisper-tiny.en"]) assert.ok(ids.has(id), `${id} in ${[...ids]}`);
    const piper = await client.models.retrieve("piper");
    assert.equal(piper.kind, "tts");
    assert.equal(piper.installed, true);
    assert.ok(piper.voices.includes("joe"));
    await assert.rejects(client.models.retrieve("no-such-model"), (err) => {
      assert.ok(err instanceof ModelNotFoundError && err instanceof NotFoundError);
      assert.equal(err.status, 404);
      assert.equal(err.code, "model_not_found");
      assert.ok(err.requestId);
      return true;
    });
  });

  it("shows the account, its key and its usage", async () => {
    const account = await client.account.retrieve();
    assert.equal(account.object, "account");
    assert.equal(typeof account.balance, "number");
    assert.ok(API_KEY.includes(account.key.prefix), "the key in use, by its visible prefix");
    assert.equal(typeof account.limits.requests_per_minute, "number");
    const usage = await client.usage.list({
      from: new Date(Date.now() - 86_400_000),
      to: new Date(Date.now() + 86_400_000),
    });
    assert.equal(usage.object, "usage");
    assert.ok(Array.isArray(usage.data));
    assert.equal(
      usage.totals.requests,
      usage.data.reduce((n, row) => n + row.requests, 0),
    );
  });

  it("creates, lists and revokes an API key; the revoked key is refused at once", async () => {
    const created = await client.account.keys.create({ name: "js-sdk-live", requests_per_minute: 600 });
    assert.equal(created.name, "js-sdk-live");
    assert.ok(created.key.includes(created.prefix), "the secret is shown once, in the create answer");
    assert.equal(created.revoked_at ?? null, null);
    const other = new Client({ apiKey: created.key, baseURL: BASE_URL });
    assert.equal((await other.account.retrieve()).key.id, created.id);
    const listed = await client.account.keys.list();
    const entry = listed.data.find((k) => k.id === created.id);
    assert.ok(entry, "the new key is listed");
    assert.equal(entry.key, undefined, "no secret in the list");
    const revoked = await client.account.keys.revoke(created.id);
    assert.ok(revoked.revoked_at, "revoked_at is set");
    await assert.rejects(other.models.list(), (err) => err instanceof AuthenticationError && err.status === 401);
    const active = await client.account.keys.list({ include_revoked: false });
    assert.ok(!active.data.some((k) => k.id === created.id), "a revoked key is left out of the active ones");
    assert.ok((await client.account.keys.list()).data.some((k) => k.id === created.id && k.revoked_at));
  });
});
