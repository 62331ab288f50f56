// Standard Webhooks verification with WebCrypto, against signatures computed here with node:crypto.
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { describe, it } from "node:test";

import { Client, WebhookVerificationError, unwrap, verify } from "speechtospeechai";

const key = randomBytes(24);
const secret = `whsec_${key.toString("base64")}`;
const body = JSON.stringify({
  id: "msg_1",
  type: "batch.completed",
  timestamp: "2026-12-02T01:00:00Z",
  data: { id: "batch_1" },
});

function sign(id, timestamp, payload, withKey = key) {
  return `v1,${createHmac("sha256", withKey).update(`${id}.${timestamp}.${payload}`).digest("base64")}`;
}

function headersFor(payload, { id = "msg_1", timestamp = Math.floor(Date.now() / 1000), signature } = {}) {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signature ?? sign(id, timestamp, payload),
  };
}

async function refused(promise, reason) {
  await assert.rejects(promise, (err) => err instanceof WebhookVerificationError && err.message.includes(reason));
}

describe("webhooks.unwrap", () => {
  it("returns the event of a delivery signed with the secret (string, bytes, Headers, any header case)", async () => {
    const client = new Client({ apiKey: "k", baseURL: "http://api.test" });
    const headers = headersFor(body);
    const event = await client.webhooks.unwrap(body, headers, secret);
    assert.equal(event.type, "batch.completed");
    assert.equal(event.data.id, "batch_1");
    await unwrap(new TextEncoder().encode(body), new Headers(headers), secret);
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), [v]]));
    await verify(Buffer.from(body), upper, secret);
  });

  it("accepts any one valid signature among several (a rotated secret)", async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const old = sign("msg_1", timestamp, body, randomBytes(24));
    const signature = `${old} v2,ignored ${sign("msg_1", timestamp, body)}`;
    await unwrap(body, headersFor(body, { timestamp, signature }), secret);
  });

  it("refuses a changed body, a wrong secret, missing headers and old or future timestamps", async () => {
    const headers = headersFor(body);
    await refused(unwrap(body.replace("batch_1", "batch_2"), headers, secret), "No matching signature found");
    await refused(unwrap(body, headers, `whsec_${randomBytes(24).toString("base64")}`), "No matching signature found");
    await refused(unwrap(body, { ...headers, "webhook-signature": undefined }, secret), "Missing required headers");
    await refused(unwrap(body, { ...headers, "webhook-timestamp": "yesterday" }, secret), "Invalid Signature Headers");
    const old = Math.floor(Date.now() / 1000) - 6 * 60;
    await refused(unwrap(body, headersFor(body, { timestamp: old }), secret), "Message timestamp too old");
    const future = Math.floor(Date.now() / 1000) + 6 * 60;
    await refused(unwrap(body, headersFor(body, { timestamp: future }), secret), "Message timestamp too new");
    // within the five minutes either way it verifies
    await unwrap(body, headersFor(body, { timestamp: Math.floor(Date.now() / 1000) - 4 * 60 }), secret);
    // an id signed for another delivery does not verify this one
    const replay = headersFor(body, { id: "msg_2", signature: headers["webhook-signature"] });
    await refused(unwrap(body, replay, secret), "No matching signature found");
  });

  it("takes the secret from S2S_WEBHOOK_SECRET, and says what to pass without one", async () => {
    const saved = process.env.S2S_WEBHOOK_SECRET;
    try {
      process.env.S2S_WEBHOOK_SECRET = secret;
      await unwrap(body, headersFor(body));
      delete process.env.S2S_WEBHOOK_SECRET;
      await assert.rejects(unwrap(body, headersFor(body)), /signing secret \(whsec_\.\.\.\)/);
    } finally {
      if (saved === undefined) delete process.env.S2S_WEBHOOK_SECRET;
      else process.env.S2S_WEBHOOK_SECRET = saved;
    }
  });
});
