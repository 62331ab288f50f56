// Live: a batch of speech requests waited for and downloaded, its input uploaded as a file, and webhooks the
// server signs, received by a local endpoint and verified with webhooks.unwrap.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { Client, WebhookVerificationError } from "speechtospeechai";

import { API_KEY, BASE_URL, container, skipUnlessLive } from "./env.mjs";

/** An HTTP endpoint on 127.0.0.1 that keeps every delivery (raw body and headers). */
async function receiver() {
  const deliveries = [];
  const waiting = [];
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    deliveries.push({ body, headers: req.headers });
    res.writeHead(204).end();
    for (const wake of waiting.splice(0)) wake();
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hook`,
    deliveries,
    /** The first delivery whose body matches, waited for up to `ms`. */
    async next(match, ms = 60_000) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const found = deliveries.find((d) => match(JSON.parse(d.body)));
        if (found) return found;
        await new Promise((resolve) => {
          waiting.push(resolve);
          setTimeout(resolve, 500);
        });
      }
      throw new Error(`no matching delivery in ${ms} ms; got ${deliveries.map((d) => d.body).join(", ")}`);
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

describe("live: batches, files and webhooks", { skip: skipUnlessLive }, () => {
  let client;
  let dir;
  let hooks;
  let endpoint;
  before(async () => {
    client = new Client({ apiKey: API_KEY, baseURL: BASE_URL });
    dir = await mkdtemp(join(tmpdir(), "s2s-js-batch-"));
    hooks = await receiver();
    endpoint = await client.webhooks.endpoints.create({ url: hooks.url, events: ["batch.completed"] });
  });
  after(async () => {
    if (endpoint) await client.webhooks.endpoints.delete(endpoint.id);
    await hooks?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("verifies the server's signed test delivery, and refuses it with another secret", async () => {
    assert.match(endpoint.secret, /^whsec_/);
    const listed = await client.webhooks.endpoints.list();
    assert.ok(
      listed.data.some((e) => e.id === endpoint.id && !e.secret),
      "the secret is shown only at creation",
    );
    const delivery = await client.webhooks.endpoints.test(endpoint.id);
    const received = await hooks.next((event) => event.type === "webhook.test");
    const event = await client.webhooks.unwrap(received.body, received.headers, endpoint.secret);
    assert.equal(event.type, "webhook.test");
    assert.equal(received.headers["webhook-id"], delivery.id);
    const rotated = await client.webhooks.endpoints.rotateSecret(endpoint.id);
    assert.notEqual(rotated.secret, endpoint.secret);
    await assert.rejects(
      client.webhooks.unwrap(
        received.body,
        received.headers,
        `whsec_${Buffer.from("another secret, 24 bytes").toString("base64")}`,
      ),
      WebhookVerificationError,
    );
    endpoint = { ...endpoint, secret: rotated.secret };
  });

  it("runs a speech batch from an uploaded JSONL file, downloads its audio, and says so by webhook", async () => {
    const lines = ["first", "second"].map((id) =>
      JSON.stringify({
        custom_id: id,
        method: "POST",
        url: "/v1/audio/speech",
        body: { model: "piper", voice: "joe", input: `The ${id} line.` },
      }),
    );
    const input = await client.files.create({
      file: { data: new TextEncoder().encode(lines.join("\n") + "\n"), name: "lines.jsonl" },
      purpose: "batch",
    });
    assert.equal(input.purpose, "batch");
    assert.equal((await client.files.retrieve(input.id)).filename, "lines.jsonl");
    const batch = await client.batches.create({
      endpoint: "/v1/audio/speech",
      input_file_id: input.id,
      metadata: { from: "js-sdk" },
    });
    assert.equal(batch.request_counts.total, 2);
    const counts = [];
    const done = await client.batches.wait(batch.id, {
      timeout: 180_000,
      pollInterval: 300,
      onProgress: (b) => counts.push(b.request_counts.completed),
    });
    assert.equal(done.status, "completed");
    assert.deepEqual([done.request_counts.completed, done.request_counts.failed], [2, 0]);
    assert.ok(counts.at(-1) === 2);

    const items = [];
    for await (const item of client.batches.iterItems(batch.id)) items.push(item.custom_id);
    assert.deepEqual(items, ["first", "second"]);

    const downloaded = await client.batches.download(batch.id, dir);
    assert.equal(downloaded.audio.length, 2);
    for (const path of downloaded.audio) assert.equal(container(new Uint8Array(await readFile(path))), "mp3", path);
    const output = (await readFile(downloaded.output, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(output.map((l) => l.custom_id).sort(), ["first", "second"]);

    const received = await hooks.next((event) => event.type === "batch.completed" && event.data.id === batch.id);
    const event = await client.webhooks.unwrap(received.body, received.headers, endpoint.secret);
    assert.equal(event.data.id, batch.id);

    const page = await client.batches.list({ limit: 5 });
    assert.ok(page.data.some((b) => b.id === batch.id));
    assert.deepEqual(await client.files.delete(input.id), { id: input.id, object: "file", deleted: true });
  });
});
