// End-to-end: the playground in a real Chromium against a real API server (tests/test_playground_e2e.py starts it
// and passes S2S_BASE_URL, S2S_API_KEY, S2S_TESTDATA and S2S_SCREENSHOTS). One browser page walks every page in turn.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";

const BASE = required("S2S_BASE_URL").replace(/\/+$/, "");
const KEY = required("S2S_API_KEY");
const TESTDATA = required("S2S_TESTDATA");
const SHOTS = resolve(process.env.S2S_SCREENSHOTS ?? "../../test-artifacts/playground");
const CHROMIUM = process.env.S2S_CHROMIUM ?? "/usr/bin/chromium";
const SLOW = 180_000; // a job on a shared, busy CPU

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`Set ${name} (tests/test_playground_e2e.py does).`);
  return value;
}

let browser, page;
const consoleErrors = [];

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  console.log(`screenshots: ${SHOTS}`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--autoplay-policy=no-user-gesture-required",
      // the microphone is a real recording (Chromium loops it), so recording -> transcription is checked end to end
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      `--use-file-for-fake-audio-capture=${join(TESTDATA, "leopard_test_en.wav")}`,
    ],
  });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
  await context.grantPermissions(["microphone"], { origin: BASE });
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on("console", (msg) => msg.type() === "error" && consoleErrors.push(msg.text()));
  page.on("pageerror", (err) => consoleErrors.push(String(err)));
  page.on("dialog", (dialog) => dialog.accept());
});

after(async () => {
  await browser?.close();
});

async function shot(name) {
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}

async function go(linkText) {
  await page.getByRole("navigation").getByRole("link", { name: linkText, exact: true }).click();
  await page.getByRole("heading", { level: 1, name: linkText }).waitFor();
}

async function status(selector, timeout) {
  await page.waitForFunction(
    (sel) => ["done", "failed"].includes(document.querySelector(sel)?.dataset.state ?? ""),
    selector,
    { timeout },
  );
  const state = await page.locator(selector).getAttribute("data-state");
  if (state !== "done") {
    const errors = await page.locator(".error").allInnerTexts();
    assert.fail(`${selector} ended ${state}: ${errors.join(" | ")}`);
  }
}

test("/ redirects to the playground, which asks for a key and refuses a wrong one", async () => {
  await page.goto(`${BASE}/`);
  assert.equal(new URL(page.url()).pathname, "/playground");
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await page.getByLabel("API key", { exact: true }).fill("s2s-nope-notakey");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("That key was not accepted").waitFor();
  assert.match(await page.getByRole("alert").innerText(), /401/);
  await shot("01-sign-in-refused");
});

test("sign in shows the dashboard: balance, limits, usage chart, keys", async () => {
  await page.getByLabel("API key", { exact: true }).fill(KEY);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
  await page.locator("#balance").waitFor();
  const balance = Number((await page.locator("#balance").innerText()).replace(/[^0-9.]/g, ""));
  assert.ok(balance > 0, `balance ${balance}`);
  await page.locator(".chart svg").waitFor();
  await page.locator("#keys-table").waitFor();
  const stored = await page.evaluate(() => ({ session: sessionStorage.length, local: localStorage.length }));
  assert.deepEqual(stored, { session: 1, local: 0 }, "the key is kept in sessionStorage only");
  await shot("02-dashboard");
});

test("speak a sentence with piper/joe: the audio element gets decodable audio", async () => {
  await go("Speak");
  await page.getByLabel("Model", { exact: true }).selectOption("piper");
  await page.getByLabel("Voice", { exact: true }).selectOption("joe");
  const models = (await (await fetch(`${BASE}/v1/models`, { headers: { Authorization: `Bearer ${KEY}` } })).json()).data;
  const config = await (await fetch(`${BASE}/playground/config.json`)).json();
  for (const id of ["kokoro", "piper"]) {
    await page.getByLabel("Model", { exact: true }).selectOption(id);
    const spec = models.find((m) => m.id === id);
    assert.equal(await page.getByLabel("Emotion", { exact: true }).isVisible(), spec.emotions, `emotion control for ${id}`);
  }
  await page.getByLabel("Voice", { exact: true }).selectOption("joe");
  await page.getByLabel("Text", { exact: true }).fill("x".repeat(config.max_input_chars + 1));
  assert.equal(await page.locator("#char-count").innerText(), `${config.max_input_chars + 1} / ${config.max_input_chars} characters`);
  assert.ok(await page.locator("#speak-submit").isDisabled(), "a text over the limit cannot be sent");
  const sentence = "The quick brown fox jumps over the lazy dog.";
  await page.getByLabel("Text", { exact: true }).fill(sentence);
  assert.match(await page.locator("#char-count").innerText(), new RegExp(`^${sentence.length} / \\d+ characters$`));
  await page.getByRole("button", { name: "Speak", exact: true }).click();
  await status("#speech-status", SLOW);
  const audio = await page.evaluate(async () => {
    const el = document.querySelector("#speech-audio");
    if (!(el.readyState >= 1)) await new Promise((r) => el.addEventListener("loadedmetadata", r, { once: true }));
    const href = document.querySelector("#speech-download").href;
    const bytes = await (await fetch(href)).arrayBuffer();
    const decoded = await new AudioContext().decodeAudioData(bytes);
    return {
      elementDuration: el.duration,
      streamed: el.src.startsWith("blob:") && MediaSource.isTypeSupported("audio/mpeg"),
      decodedSeconds: decoded.duration,
      channels: decoded.numberOfChannels,
      // a loop, not Math.max(...samples): a spread of ~130k samples overflows the call stack
      peak: decoded.getChannelData(0).reduce((top, x) => Math.max(top, Math.abs(x)), 0),
    };
  });
  assert.ok(audio.decodedSeconds > 1.5, `decoded ${audio.decodedSeconds} s`);
  assert.ok(audio.peak > 0.05, `the audio is silent (peak ${audio.peak})`);
  assert.ok(Number.isFinite(audio.elementDuration) && audio.elementDuration > 1.5, `<audio> duration ${audio.elementDuration}`);
  console.log(`speech: ${audio.decodedSeconds.toFixed(2)} s decoded, <audio> ${audio.elementDuration.toFixed(2)} s, MediaSource streaming: ${audio.streamed}`);
  await shot("03-speak");
  // WAV (no MediaSource): played from a Blob URL once complete
  await page.getByLabel("Format", { exact: true }).selectOption("wav");
  await page.getByRole("button", { name: "Speak", exact: true }).click();
  await page.waitForFunction(() => document.querySelector("#speech-status")?.dataset.state === "running");
  await status("#speech-status", SLOW);
  const wav = await page.evaluate(async () => {
    const el = document.querySelector("#speech-audio");
    const bytes = await (await fetch(el.src)).arrayBuffer();
    return { head: new TextDecoder().decode(bytes.slice(0, 4)), seconds: (await new AudioContext().decodeAudioData(bytes)).duration };
  });
  assert.equal(wav.head, "RIFF");
  assert.ok(wav.seconds > 1.5, `wav decoded ${wav.seconds} s`);
  assert.equal(await page.locator("#speech-download").getAttribute("download"), "speech.wav");
  // the preset voice's preview
  await page.getByRole("button", { name: "Preview voice" }).click();
  const previewSeconds = await page.evaluate(async () => {
    const el = document.querySelector('audio[aria-label="Voice preview"]');
    for (let i = 0; i < 300 && !el.src; i++) await new Promise((r) => setTimeout(r, 100));
    return (await new AudioContext().decodeAudioData(await (await fetch(el.src)).arrayBuffer())).duration;
  });
  assert.ok(previewSeconds > 0.5, `preview ${previewSeconds} s`);
});

test("transcribe jfk.flac: its words, clickable word timings, an SRT from the server", async () => {
  await go("Transcribe");
  await page.getByLabel("Audio or video file").setInputFiles(join(TESTDATA, "jfk.flac"));
  await page.getByLabel("Model", { exact: true }).selectOption("whisper-base");
  await page.getByRole("button", { name: "Transcribe", exact: true }).click();
  await status("#transcribe-status", SLOW);
  const text = (await page.locator("#transcript").innerText()).toLowerCase().replace(/[^a-z ]+/g, " ").replace(/\s+/g, " ");
  assert.ok(text.includes("ask not what your country can do for you"), text);
  const word = page.locator("#transcript button.word[data-start]").nth(5);
  const start = Number(await word.getAttribute("data-start"));
  await word.click();
  const now = await page.evaluate(() => document.querySelector("#transcribe-audio").currentTime);
  assert.ok(Math.abs(now - start) < 0.3, `clicking a word seeks to ${start}, the player is at ${now}`);
  const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#transcript-downloads button[data-format=srt]").click()]);
  const srt = readFileSync(await download.path(), "utf8");
  assert.match(srt, /^1\r?\n\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d/);
  assert.match(srt.toLowerCase(), /country/);
  assert.equal(download.suggestedFilename(), "jfk.srt");
  await shot("04-transcribe");
});

test("speakers: a stereo recording, one speaker per channel, in two colours", async () => {
  await page.getByLabel("Audio or video file").setInputFiles(join(TESTDATA, "fw_stereo_diarization.wav"));
  await page.getByLabel("Label speakers (diarization)").check();
  await page.getByLabel("Channels", { exact: true }).selectOption("split");
  await page.getByRole("button", { name: "Transcribe", exact: true }).click();
  await status("#transcribe-status", SLOW);
  const speakers = await page.locator('#transcript ul[aria-label="Speakers"] li').allInnerTexts();
  assert.deepEqual(speakers.map((s) => s.trim()).sort(), ["SPEAKER_00", "SPEAKER_01"]);
  const colours = await page.locator("#transcript button.word[data-start]").evaluateAll((words) => [...new Set(words.map((w) => getComputedStyle(w).color))]);
  assert.equal(colours.length, 2, `word colours: ${colours}`);
  const text = (await page.locator("#transcript").innerText()).toLowerCase();
  assert.match(text, /wizard/);
  assert.match(text, /horizon/);
  await shot("04a-transcribe-speakers");
  await page.getByLabel("Label speakers (diarization)").uncheck();
  await page.getByLabel("Channels", { exact: true }).selectOption("mix");
});

test("record from the (fake) microphone and transcribe the recording", async () => {
  await page.getByRole("button", { name: "Record from microphone" }).click();
  await page.getByRole("button", { name: "Stop recording" }).waitFor();
  await page.waitForTimeout(6500); // the recording is 5.9 s; Chromium loops it
  await page.getByRole("button", { name: "Stop recording" }).click();
  await page.getByText(/^Recorded \d+ kB\.$/).waitFor();
  await page.getByRole("button", { name: "Transcribe", exact: true }).click();
  await status("#transcribe-status", SLOW);
  const text = (await page.locator("#transcript").innerText()).toLowerCase();
  assert.match(text, /apostle|middle class|gospel/, text);
  await shot("04b-transcribe-microphone");
});

test("convert jfk.flac to af_bella: A and B both hold the speech, the phrases show what was said", async () => {
  await go("Convert");
  await page.getByLabel("Speech to convert").setInputFiles(join(TESTDATA, "jfk.flac"));
  await page.getByLabel("Target voice", { exact: true }).selectOption("af_bella");
  await page.getByLabel("Format", { exact: true }).selectOption("wav");
  await page.getByRole("button", { name: "Convert", exact: true }).click();
  await status("#convert-status", SLOW);
  const players = await page.evaluate(async () => {
    const heard = async (selector) => {
      const el = document.querySelector(selector);
      if (!(el.readyState >= 1)) await new Promise((r) => el.addEventListener("loadedmetadata", r, { once: true }));
      const decoded = await new AudioContext().decodeAudioData(await (await fetch(el.src)).arrayBuffer());
      const samples = decoded.getChannelData(0);
      let peak = 0;
      for (let i = 0; i < samples.length; i++) peak = Math.max(peak, Math.abs(samples[i]));
      return { element: el.duration, decoded: decoded.duration, peak };
    };
    return { a: await heard("#convert-original"), b: await heard("#convert-converted") };
  });
  for (const [name, player] of Object.entries(players)) {
    assert.ok(player.decoded > 10 && player.element > 10, `${name}: ${JSON.stringify(player)}`);
    assert.ok(player.peak > 0.05, `${name} is silent: ${JSON.stringify(player)}`);
  }
  assert.ok(Math.abs(players.b.decoded - players.a.decoded) < 0.25, `B lasts ${players.b.decoded} s, A ${players.a.decoded} s`);
  const rows = page.locator("#convert-phrases tbody tr");
  assert.ok((await rows.count()) >= 2, "at least two phrases");
  const voices = await rows.locator("td:nth-child(3)").allInnerTexts();
  assert.ok(voices.every((v) => v.trim() === "af_bella"), voices.join(", "));
  const text = (await page.locator("#convert-phrases").innerText()).toLowerCase();
  assert.match(text, /country/, text);
  // a phrase's B button plays the converted audio from where that phrase starts
  const start = Number(await rows.nth(1).getAttribute("data-start"));
  await rows.nth(1).getByRole("button", { name: /^Play B from/ }).click();
  const at = await page.evaluate(() => document.querySelector("#convert-converted").currentTime);
  assert.ok(Math.abs(at - start) < 0.3, `the B player is at ${at}, the phrase starts at ${start}`);
  console.log(`convert: A ${players.a.decoded.toFixed(2)} s, B ${players.b.decoded.toFixed(2)} s, ${voices.length} phrases`);
  await shot("04c-convert");
});

test("clone a voice from a real sample with the speaker's consent; it is listed and ready", async () => {
  await go("Voices");
  const sample = page.getByLabel("Recording of the speaker");
  await sample.setInputFiles(join(TESTDATA, "leopard_test_en.wav")); // 5.9 s: too short for a good clone
  await page.locator("#sample-report .warning").first().waitFor();
  assert.match(await page.locator("#sample-report").innerText(), /only 5\.9 s long/);
  await shot("05a-voices-short-sample");
  await sample.setInputFiles(join(TESTDATA, "jfk.flac")); // 11 s of one speaker
  await page.getByText(/^11\.0 s, peak/).waitFor();
  assert.doesNotMatch(await page.locator("#sample-report").innerText(), /long/);
  const name = `E2E voice ${Date.now()}`;
  await page.getByLabel("Name", { exact: true }).fill(name);
  // the test server takes an attestation (CLONE_CONSENT=attestation): the form does not send without it
  await page.getByRole("button", { name: "Clone voice" }).click();
  assert.equal(await page.locator("#clone-status").getAttribute("data-state"), null, "cloned without consent");
  await page.getByLabel(/agreed to have their voice cloned/).check();
  await page.getByRole("button", { name: "Clone voice" }).click();
  await status("#clone-status", SLOW);
  const row = page.locator(`#voices-table tr[data-voice-name="${name}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /ready/);
  await row.getByRole("button", { name: `Preview ${name}` }).click();
  const preview = await page.evaluate(async () => {
    const el = document.querySelector("#voice-preview-audio");
    for (let i = 0; i < 100 && !el.src; i++) await new Promise((r) => setTimeout(r, 100));
    const decoded = await new AudioContext().decodeAudioData(await (await fetch(el.src)).arrayBuffer());
    return decoded.duration;
  });
  assert.ok(preview > 1, `the preview decodes to ${preview} s`);
  await shot("05-voices");
  voiceName = name;
});

let voiceName = null;

test("the cloned voice is offered on the Speak page", async () => {
  await go("Speak");
  await page.getByLabel("Model", { exact: true }).selectOption("piper");
  const mine = await page.locator('#main select[name=voice] optgroup[label="Your voices"] option').allInnerTexts();
  assert.ok(mine.includes(`${voiceName} (cloned)`), mine.join(", "));
});

test("create a key, see its secret once, revoke it: requests with it get 401", async () => {
  await go("Dashboard");
  await page.locator(".chart svg").waitFor();
  const charted = await page.locator(".chart svg rect[data-model]").evaluateAll((rects) => [...new Set(rects.map((r) => r.dataset.model))]);
  for (const model of ["piper", "whisper-base"]) assert.ok(charted.includes(model), `no ${model} bar in the usage chart: ${charted}`);
  await shot("06a-dashboard-usage");
  const name = `e2e-temp-${Date.now()}`;
  await page.getByLabel("Key name").fill(name);
  await page.getByRole("button", { name: "Create key" }).click();
  const secret = (await page.locator("#new-key-secret").innerText()).trim();
  assert.match(secret, /^s2s-/);
  const row = page.locator(`#keys-table tr[data-key-name="${name}"]`);
  await row.waitFor();
  assert.ok(!(await page.locator("#keys-table").innerText()).includes(secret), "the list never shows a secret");
  const ok = await fetch(`${BASE}/v1/account`, { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal(ok.status, 200, "the new key works");
  await shot("06-key-created");
  await row.getByRole("button", { name: /Revoke/ }).click();
  await row.locator(".badge.revoked").waitFor();
  const refused = await fetch(`${BASE}/v1/account`, { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal(refused.status, 401, "a revoked key is refused");
  assert.equal((await refused.json()).error.code, "invalid_api_key");
  await shot("07-key-revoked");
});

test("the jobs page lists this session's jobs with their status", async () => {
  await go("Jobs");
  await page.locator("#jobs-table").waitFor();
  const kinds = await page.locator("#jobs-table tbody tr td:nth-child(2)").allInnerTexts();
  for (const kind of ["tts", "stt", "vc", "clone"]) assert.ok(kinds.includes(kind), `no ${kind} job in ${kinds}`);
  assert.match(await page.locator("#jobs-table").innerText(), /succeeded/);
  const tts = page.locator("#jobs-table tbody tr", { has: page.locator("td:nth-child(2)", { hasText: /^tts$/ }) }).first();
  const [download] = await Promise.all([page.waitForEvent("download"), tts.getByRole("button", { name: /Download the result/ }).click()]);
  assert.match(download.suggestedFilename(), /\.mp3$/);
  assert.ok(readFileSync(await download.path()).length > 1000, "the speech result has audio");
  await shot("08-jobs");
});

test("a batch shows its progress and its results download", async () => {
  const created = await fetch(`${BASE}/v1/batches`, {
    method: "POST",
    headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      endpoint: "/v1/audio/speech",
      completion_window: "1h",
      requests: ["one", "two"].map((id) => ({ custom_id: id, body: { model: "piper", voice: "joe", input: `Batch line ${id}.`, response_format: "mp3" } })),
    }),
  });
  assert.ok(created.ok, await created.clone().text());
  const batch = await created.json();
  await page.getByRole("button", { name: "Refresh" }).click();
  const row = page.locator(`#batches-table tr[data-batch-id="${batch.id}"]`);
  await row.locator(".badge", { hasText: /^completed$/ }).waitFor({ timeout: SLOW }); // the page refreshes itself while it runs
  assert.match(await row.innerText(), /2\/2 \(0 failed\)/);
  const [download] = await Promise.all([page.waitForEvent("download"), row.getByRole("button", { name: /results of batch/ }).click()]);
  const lines = readFileSync(await download.path(), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.custom_id).sort(), ["one", "two"]);
  assert.ok(lines.every((l) => l.response.status_code === 200));
  await shot("08b-batches");
});

test("cancel a running job from the jobs page", async () => {
  const form = new FormData();
  form.append("file", new Blob([readFileSync(join(TESTDATA, "pyannote_ami_tst00.wav"))], { type: "audio/wav" }), "meeting.wav");
  form.append("model", "whisper-base");
  form.append("diarization", "true");
  form.append("async", "true");
  const submitted = await fetch(`${BASE}/v1/audio/transcriptions`, { method: "POST", headers: { Authorization: `Bearer ${KEY}` }, body: form });
  assert.equal(submitted.status, 202, await submitted.clone().text());
  const job = await submitted.json();
  await page.getByRole("button", { name: "Refresh" }).click();
  const row = page.locator(`#jobs-table tr[data-job-id="${job.id}"]`);
  await row.getByRole("button", { name: `Cancel job ${job.id}` }).click();
  await row.locator(".badge.canceled").waitFor();
  const after = await (await fetch(`${BASE}/v1/jobs/${job.id}`, { headers: { Authorization: `Bearer ${KEY}` } })).json();
  assert.equal(after.status, "canceled");
  await shot("08a-jobs-canceled");
});

test("delete the cloned voice", async () => {
  await go("Voices");
  const row = page.locator(`#voices-table tr[data-voice-name="${voiceName}"]`);
  await row.getByRole("button", { name: `Delete ${voiceName}` }).click();
  await row.waitFor({ state: "detached" });
  const left = await (await fetch(`${BASE}/v1/voices`, { headers: { Authorization: `Bearer ${KEY}` } })).json();
  assert.ok(!left.data.some((v) => v.name === voiceName), "the voice is gone from the API too");
});

test("every control has a label; sign out forgets the key", async () => {
  for (const path of ["", "speak", "transcribe", "convert", "voices", "jobs"]) {
    await page.goto(`${BASE}/playground/${path}`);
    await page.locator("main h1").waitFor();
    await page.waitForTimeout(300);
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll("input, select, textarea")]
        .filter((el) => el.type !== "hidden" && !el.labels?.length && !el.getAttribute("aria-label"))
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(unlabelled, [], `unlabelled controls on /playground/${path}`);
  }
  // keyboard: the first Tab reaches the skip link, which moves focus to the page; focus is always visible
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
  await page.keyboard.press("Enter");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "main");
  await page.keyboard.press("Tab");
  const ring = await page.evaluate(() => {
    const el = document.activeElement;
    return { tag: el?.tagName, outline: getComputedStyle(el).outlineStyle, width: parseFloat(getComputedStyle(el).outlineWidth) };
  });
  assert.ok(["BUTTON", "A", "SELECT", "INPUT"].includes(ring.tag) && ring.outline !== "none" && ring.width >= 2, JSON.stringify(ring));
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assert.deepEqual(consoleErrors.filter((e) => !/401|Failed to load resource/.test(e)), [], "errors in the browser console");
});
