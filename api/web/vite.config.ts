// The playground: a single-page app served by the API at /playground (api/routes/web.py), built into dist/.
// The SDK comes from source (sdk/js/src), so the playground always runs the SDK of this checkout.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const sdk = fileURLToPath(new URL("../../sdk/js/src/index.ts", import.meta.url));

export default defineConfig({
  base: "/playground/",
  resolve: { alias: { speechtospeechai: sdk } },
  build: { outDir: "dist", emptyOutDir: true, assetsDir: "assets", sourcemap: true },
  server: { fs: { allow: ["../.."] }, proxy: { "/v1": "http://127.0.0.1:8000" } },
});
