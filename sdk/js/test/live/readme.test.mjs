// Live: the README's JavaScript quickstart runs as written (its import resolved to this checkout's build).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { it } from "node:test";

import { container, skipUnlessLive, words } from "./env.mjs";

const README = fileURLToPath(new URL("../../../../README.md", import.meta.url));
const BUILD = new URL("../../dist/esm/index.js", import.meta.url).href;

/** The ```js blocks of the README's "### JavaScript SDK" section. */
async function readmeBlocks() {
  const text = await readFile(README, "utf8");
  const start = text.indexOf("### JavaScript SDK\n");
  assert.ok(start >= 0, "the README has a JavaScript SDK section");
  const end = text.indexOf("\n## ", start);
  return [...text.slice(start, end).matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
}

it("runs the README's JavaScript quickstart as written", { skip: skipUnlessLive, timeout: 180_000 }, async () => {
  const [quickstart] = await readmeBlocks();
  assert.match(quickstart, /from "speechtospeechai"/);
  const dir = await mkdtemp(join(tmpdir(), "s2s-js-readme-"));
  try {
    const script = join(dir, "quickstart.mjs");
    await writeFile(script, quickstart.replace(/from "speechtospeechai"/g, `from ${JSON.stringify(BUILD)}`));
    const { stdout } = await promisify(execFile)(process.execPath, [script], {
      cwd: dir,
      env: process.env,
      timeout: 170_000,
    });
    const bytes = new Uint8Array(await readFile(join(dir, "output.mp3")));
    assert.equal(container(bytes), "mp3");
    assert.ok(bytes.length > 8_000, `${bytes.length} bytes`);
    const said = words(stdout);
    // the transcript of what was spoken, printed once whole and once delta by delta
    assert.ok(said.filter((w) => w === "welcome").length >= 2, stdout);
    assert.ok(said.includes("speech"), stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
