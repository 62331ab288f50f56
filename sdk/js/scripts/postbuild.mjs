// Marks each build's module format, so Node loads dist/esm as ES modules and dist/cjs as CommonJS
// whatever the package's own "type" says.
import { writeFile } from "node:fs/promises";

await writeFile(new URL("../dist/esm/package.json", import.meta.url), JSON.stringify({ type: "module" }) + "\n");
await writeFile(new URL("../dist/cjs/package.json", import.meta.url), JSON.stringify({ type: "commonjs" }) + "\n");
