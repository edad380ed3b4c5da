import { defineConfig } from "tsup";
import { packageBuild } from "../../tsup.base.js";

export default defineConfig(packageBuild({ external: ["@agent-sessions/core", "itty-router", "@sinclair/typebox"] }));
