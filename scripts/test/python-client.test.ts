// Runs the Python client's pytest suite (clients/python/tests) as part of `pnpm test`.
import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const inCi = process.env.CI === "true";

/**
 * The first Python that has pytest: `AGENT_SESSIONS_PYTHON`, then `python3` on the PATH, then
 * Debian's `/usr/bin/python3` (where `apt-get install python3-pytest` puts it).
 */
function pythonWithPytest(): string | null {
  const candidates = [process.env.AGENT_SESSIONS_PYTHON, "python3", "/usr/bin/python3"].filter((each): each is string => Boolean(each));
  for (const python of candidates) {
    const probe = spawnSync(python, ["-c", "import sys, pytest; assert sys.version_info >= (3, 9)"], { stdio: "ignore" });
    if (probe.status === 0) return python;
  }
  return null;
}

const python = pythonWithPytest();
if (python === null && !inCi) {
  console.warn("\n!!! SKIPPING the Python client's tests: no python3 (3.9+) with pytest. Install python3-pytest; in CI this fails. !!!\n");
}

describe("the Python client (clients/python)", () => {
  it.skipIf(python === null && !inCi)(
    "passes its pytest suite against a real agent-sessions serve",
    async () => {
      if (python === null) throw new Error("no python3 (3.9+) with pytest; .ci/run installs python3-pytest (CI=true: this test needs it)");
      expect(existsSync(join(root, "packages", "cli", "dist")), "packages/cli/dist: run `pnpm build` first").toBe(true);
      const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
        execFile(
          python,
          ["-m", "pytest", "clients/python/tests", "-q", "-p", "no:cacheprovider"],
          // The tests start the CLI with this test's own node.
          { cwd: root, env: { ...process.env, AGENT_SESSIONS_NODE: process.execPath }, timeout: 150_000, maxBuffer: 16 * 1024 * 1024 },
          (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
        );
      });
      expect(code, `pytest failed:\n${output.slice(-8000)}`).toBe(0);
      expect(output).toMatch(/\d+ passed/);
      expect(output).not.toMatch(/\d+ (failed|error)/);
    },
    180_000,
  );
});
