import { defineConfig } from "tsup";
import { packageBuild } from "../../tsup.base.js";

export default defineConfig(
  packageBuild({
    // The adapters are subpaths (`@agent-sessions/router/node`, …): a host imports only its own.
    // No shared chunks: each entry stands alone, so a bundler sees no bare import of a helper chunk.
    splitting: false,
    entry: ["src/index.ts", "src/node.ts", "src/fastify.ts", "src/next.ts", "src/workers.ts"],
    external: ["@agent-sessions/core", "itty-router", "@sinclair/typebox"],
  }),
);
