// What the browser tests share: Debian's chromium driven by playwright-core, and the router served
// on a loopback port. Without chromium a browser test is skipped on a workstation, loudly, and
// fails under CI=true, where `.ci/run` installs it.
import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { AgentSessionsRouter } from "@agent-sessions/router";
import { type Browser, chromium, type Page } from "playwright-core";
import { type Server, serve } from "srvx";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const IN_CI = process.env.CI === "true";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
/** Where the tests leave their screenshots. */
export const ARTIFACTS = resolve(dirname(fileURLToPath(import.meta.url)), "../../../.artifacts");

/** Whether the browser tests of `what` are skipped (no chromium, not in CI); says so loudly when they are. */
export function skipWithoutChromium(what: string): boolean {
  const skip = !HAVE_CHROMIUM && !IN_CI;
  if (skip) {
    console.warn(
      `\n${"!".repeat(78)}\n!! SKIPPING the ${what} browser test: no chromium at ${CHROMIUM}.\n` +
        `!! Install it with: apt-get update && apt-get install -y chromium\n${"!".repeat(78)}\n`,
    );
  }
  return skip;
}

/** The router served on a loopback port, and headless chromium; `close` stops both. */
export async function startBrowser(router: AgentSessionsRouter): Promise<{ browser: Browser; origin: string; close(): Promise<void> }> {
  mkdirSync(ARTIFACTS, { recursive: true });
  if (!HAVE_CHROMIUM) throw new Error(`CI=true but there is no chromium at ${CHROMIUM}: install it (apt-get install -y chromium)`);
  const server: Server = serve({ fetch: (request) => router.fetch(request), hostname: "127.0.0.1", port: 0, silent: true, gracefulShutdown: false });
  await server.ready();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    browser,
    origin: new URL(server.url!).origin,
    async close() {
      await browser.close();
      await server.close(true);
    },
  };
}

/** A new page, with the Content Security Policy refusals its console reports. */
export async function newPage(browser: Browser): Promise<{ page: Page; violations: string[] }> {
  const page = await browser.newPage({ viewport: { width: 960, height: 900 } });
  page.setDefaultTimeout(10_000);
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  return { page, violations };
}

/** A JSON call of the API served at `origin` with `key`; throws on an error status. */
export function apiAt(origin: () => string, key: string) {
  return async (method: string, path: string, body?: unknown): Promise<any> => {
    const response = await fetch(`${origin()}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = await response.json();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
}
