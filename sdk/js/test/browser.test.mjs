// The ES module build in a real browser (headless Chromium): it loads with no bundler and no Node built-ins,
// calls the page's own fetch (no "Illegal invocation"), defaults baseURL to the page's origin, maps errors, reads
// a streamed body chunk by chunk and verifies a webhook with WebCrypto.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { it } from "node:test";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CHROMIUM = [
  process.env.CHROMIUM,
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
].find((path) => path && existsSync(path));

const key = randomBytes(24);
const secret = `whsec_${key.toString("base64")}`;
const body = JSON.stringify({ id: "msg_1", type: "job.succeeded", data: { id: "job_1" } });
const stamp = String(Math.floor(Date.now() / 1000));
const webhookHeaders = {
  "webhook-id": "msg_1",
  "webhook-timestamp": stamp,
  "webhook-signature": `v1,${createHmac("sha256", key).update(`msg_1.${stamp}.${body}`).digest("base64")}`,
};

const PAGE = `<!doctype html><html><body>running<script type="module">
import { Client, NotFoundError, unwrap } from "/dist/esm/index.js";
const out = {};
try {
  const client = new Client({ apiKey: "browser-key" });
  out.baseURL = client.baseURL;
  out.models = (await client.models.list()).data.map((m) => m.id);
  try {
    await client.models.retrieve("nope");
  } catch (err) {
    out.error = [err instanceof NotFoundError, err.constructor.name, err.code, err.requestId];
  }
  const audio = await client.audio.speech.create({ model: "piper", voice: "joe", input: "hi" });
  out.chunks = [];
  for await (const chunk of audio) out.chunks.push(new TextDecoder().decode(chunk));
  out.event = (await unwrap(${JSON.stringify(body)}, ${JSON.stringify(webhookHeaders)}, ${JSON.stringify(secret)})).type;
  try {
    await audio.save("x.mp3");
  } catch (err) {
    out.save = err.message;
  }
} catch (err) {
  out.failure = String(err) + "\\n" + err.stack;
}
await fetch("/result", { method: "POST", body: JSON.stringify(out) });
</script></body></html>`;

const TYPES = { ".js": "text/javascript", ".map": "application/json", ".html": "text/html" };

function serve() {
  const seen = [];
  let report;
  const result = new Promise((resolve) => (report = resolve));
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    seen.push({ path: url.pathname, auth: req.headers.authorization, ua: req.headers["user-agent"] });
    if (url.pathname === "/result") {
      let text = "";
      for await (const chunk of req) text += chunk;
      res.writeHead(204).end();
      report(JSON.parse(text));
    } else if (url.pathname === "/") {
      res.writeHead(200, { "content-type": "text/html" }).end(PAGE);
    } else if (url.pathname === "/v1/models") {
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ object: "list", data: [{ id: "piper" }] }));
    } else if (url.pathname === "/v1/models/nope") {
      res
        .writeHead(404, { "content-type": "application/json", "x-request-id": "req_browser" })
        .end(JSON.stringify({ error: { code: "model_not_found", message: "No model 'nope'." } }));
    } else if (url.pathname === "/v1/audio/speech") {
      res.writeHead(200, { "content-type": "audio/mpeg" });
      res.write("ID3-first");
      setTimeout(() => res.end("-second"), 300);
    } else if (url.pathname.startsWith("/dist/esm/")) {
      const path = normalize(join(ROOT, url.pathname));
      if (!path.startsWith(join(ROOT, "dist"))) return res.writeHead(403).end();
      try {
        res
          .writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" })
          .end(await readFile(path));
      } catch {
        res.writeHead(404).end();
      }
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, seen, result })));
}

it(
  "works in a real browser",
  { skip: CHROMIUM ? false : "no Chromium (set CHROMIUM to its path)", timeout: 120_000 },
  async () => {
    const { server, seen, result } = await serve();
    const profile = await mkdtemp(join(tmpdir(), "s2s-js-chromium-"));
    const origin = `http://127.0.0.1:${server.address().port}`;
    const args = [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      `--user-data-dir=${profile}`,
      `${origin}/`,
    ];
    const browser = spawn(CHROMIUM, args, { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    browser.stderr.on("data", (chunk) => (log = (log + chunk).slice(-20_000)));
    const exited = new Promise((resolve) => browser.on("exit", (code) => resolve(code)));
    let timer;
    try {
      const out = await Promise.race([
        result,
        exited.then((code) => assert.fail(`Chromium exited (${code}) before the page reported:\n${log}`)),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`the page did not report in 90 s:\n${log}`)), 90_000);
        }),
      ]);
      assert.equal(out.failure, undefined, out.failure);
      assert.equal(out.baseURL, `${origin}/v1/`);
      assert.deepEqual(out.models, ["piper"]);
      assert.deepEqual(out.error, [true, "ModelNotFoundError", "model_not_found", "req_browser"]);
      assert.deepEqual(out.chunks, ["ID3-first", "-second"], "the body is read as it arrives");
      assert.equal(out.event, "job.succeeded");
      assert.match(out.save, /needs Node's file system/);
      const api = seen.filter((r) => r.path.startsWith("/v1/"));
      assert.ok(api.length >= 3 && api.every((r) => r.auth === "Bearer browser-key"));
      assert.ok(
        api.every((r) => !/speechtospeechai-js/.test(r.ua ?? "")),
        "a browser sends its own User-Agent",
      );
      assert.ok(!seen.some((r) => r.path.includes("node:")), "no Node built-in is fetched");
    } finally {
      clearTimeout(timer);
      if (browser.exitCode === null) browser.kill();
      await exited;
      server.close();
      await rm(profile, { recursive: true, force: true });
    }
  },
);
