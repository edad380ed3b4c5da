// Bundles worker.mjs and the packages it imports into dist/worker.js, the one module config.capnp
// gives workerd: ES modules for a runtime with web APIs and no `node:` built-ins.
import { build } from "esbuild";

await build({
  entryPoints: [new URL("./worker.mjs", import.meta.url).pathname],
  outfile: new URL("./dist/worker.js", import.meta.url).pathname,
  bundle: true,
  format: "esm",
  platform: "neutral",
  mainFields: ["module", "main"],
  target: "es2022",
  logLevel: "warning",
});
