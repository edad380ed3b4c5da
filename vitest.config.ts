import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources, so no build is needed between an edit and a test run.
    alias: [
      { find: /^@agent-sessions\/core\/testing$/, replacement: source("./packages/core/src/testing.ts") },
      { find: /^@agent-sessions\/core$/, replacement: source("./packages/core/src/index.ts") },
      { find: /^@agent-sessions\/memory$/, replacement: source("./packages/memory/src/index.ts") },
      { find: /^@agent-sessions\/router$/, replacement: source("./packages/router/src/index.ts") },
      { find: /^@agent-sessions\/router\/(node|fastify|next|workers)$/, replacement: source("./packages/router/src/$1.ts") },
      { find: /^@agent-sessions\/sql$/, replacement: source("./packages/sql/src/index.ts") },
      { find: /^@agent-sessions\/redis$/, replacement: source("./packages/redis/src/index.ts") },
      { find: /^@agent-sessions\/client$/, replacement: source("./packages/client/src/index.ts") },
    ],
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/*/test/**/*.test.ts", "scripts/test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
