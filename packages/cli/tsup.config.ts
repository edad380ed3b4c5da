import { defineConfig } from "tsup";
import { packageBuild } from "../../tsup.base.js";

export default defineConfig(packageBuild({ external: ["@agent-sessions/core", "@agent-sessions/memory", "@agent-sessions/router", "srvx"] }));
