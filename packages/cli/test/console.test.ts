// serve's console: on by default at /console, off with --no-console or AGENT_SESSIONS_CONSOLE=0.
import { afterEach, describe, expect, it } from "vitest";
import { parseServeArgs, UsageError } from "../src/options.js";
import { type RunningServer, startServer } from "../src/serve.js";

const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close(0)));
});

function options(args: string[], env: Record<string, string> = {}) {
  const parsed = parseServeArgs(["--store", "memory", "--port", "0", "--api-key", "org:k", ...args], env);
  if (parsed.help) throw new Error("unexpected help");
  return parsed.options;
}

describe("serve --no-console", () => {
  it("serves the console by default; --no-console or AGENT_SESSIONS_CONSOLE=0 turns it off; another value is refused by name", () => {
    expect(options([]).console).toBe(true);
    expect(options([], { AGENT_SESSIONS_CONSOLE: "1" }).console).toBe(true);
    expect(options(["--no-console"]).console).toBe(false);
    expect(options([], { AGENT_SESSIONS_CONSOLE: "0" }).console).toBe(false);
    expect(() => options([], { AGENT_SESSIONS_CONSOLE: "off" })).toThrow(new UsageError("AGENT_SESSIONS_CONSOLE: 'off' is not 1 or 0"));
  });

  it("answers the sign-in page at /console/login, and 404 there with --no-console", async () => {
    const on = await startServer(options([]));
    running.push(on);
    const page = await fetch(`${on.url}/console/login`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Sign in with an API key");
    const off = await startServer(options(["--no-console"]));
    running.push(off);
    expect((await fetch(`${off.url}/console/login`)).status).toBe(404);
  });
});
