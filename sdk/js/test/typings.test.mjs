// The built declarations (dist/*/index.d.ts, through the package's exports) type-check a TypeScript user's code:
// test/types/usage.ts (ES modules) and cjs.cts (CommonJS), whose @ts-expect-error lines must each be errors.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { it } from "node:test";

const require = createRequire(import.meta.url);

it("the declarations type-check typed results, overloads and errors", { timeout: 120_000 }, async () => {
  const tsc = require.resolve("typescript/bin/tsc");
  const project = fileURLToPath(new URL("./types/tsconfig.json", import.meta.url));
  try {
    await promisify(execFile)(process.execPath, [tsc, "-p", project], { timeout: 110_000 });
  } catch (err) {
    assert.fail(`tsc found errors:\n${err.stdout}${err.stderr}`);
  }
});
