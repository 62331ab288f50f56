// The clone wizard on a server with CLONE_CONSENT=recording (tests/test_playground_e2e.py starts one): it asks for
// the speaker reading the server's phrase, and the server's refusal of a recording that is not the speaker shows.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";

const BASE = process.env.S2S_BASE_URL?.replace(/\/+$/, "");
const KEY = process.env.S2S_API_KEY;
const TESTDATA = process.env.S2S_TESTDATA;
const SHOTS = resolve(process.env.S2S_SCREENSHOTS ?? "../../test-artifacts/playground");
const CHROMIUM = process.env.S2S_CHROMIUM ?? "/usr/bin/chromium";
if (!BASE || !KEY || !TESTDATA) throw new Error("Set S2S_BASE_URL, S2S_API_KEY and S2S_TESTDATA (tests/test_playground_e2e.py does).");

let browser, page;
before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  });
  page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
  page.setDefaultTimeout(30_000);
});
after(async () => browser?.close());

test("a recording-consent server: the wizard asks for the phrase and shows the server's refusal", async () => {
  const config = await (await fetch(`${BASE}/playground/config.json`)).json();
  assert.equal(config.clone_consent, "recording");
  await page.goto(`${BASE}/playground/voices`);
  await page.getByLabel("API key", { exact: true }).fill(KEY);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Voices" }).waitFor();
  const field = page.getByLabel("Consent recording", { exact: true });
  await field.waitFor();
  assert.ok(await field.evaluate((el) => el.required), "the consent recording is required");
  assert.ok((await page.locator("#clone-title").locator("..").innerText()).includes(config.consent_phrase));
  await page.getByLabel("Recording of the speaker").setInputFiles(join(TESTDATA, "jfk.flac"));
  await page.getByLabel("Name", { exact: true }).fill("Needs a recording");
  await page.getByLabel(/agreed to have their voice cloned/).check();
  await page.getByRole("button", { name: "Clone voice" }).click();
  assert.equal(await page.locator("#clone-status").getAttribute("data-state"), null, "sent without a consent recording");
  // someone else reading something else: the server compares it with the sample and refuses
  await field.setInputFiles(join(TESTDATA, "leopard_test_en.wav"));
  await page.getByRole("button", { name: "Clone voice" }).click();
  await page.waitForFunction(() => ["done", "failed"].includes(document.querySelector("#clone-status")?.dataset.state ?? ""), null, { timeout: 180_000 });
  assert.equal(await page.locator("#clone-status").getAttribute("data-state"), "failed");
  const error = await page.locator("form .error").innerText();
  assert.match(error, /consent/i);
  console.log(`refusal shown: ${error}`);
  const row = page.locator('#voices-table tr[data-voice-name="Needs a recording"]');
  await row.waitFor();
  assert.match(await row.innerText(), /failed/);
  await page.screenshot({ path: join(SHOTS, "09-clone-consent-recording.png"), fullPage: true });
  console.log(`screenshot: ${join(SHOTS, "09-clone-consent-recording.png")}`);
});
