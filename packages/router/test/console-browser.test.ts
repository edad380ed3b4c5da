import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter } from "@agent-sessions/router";
import type { Browser, Page } from "playwright-core";
import { type Server, serve } from "srvx";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiAt, newPage, skipWithoutChromium, startBrowser } from "./chromium.js";
import { agentRun, workflowWithSteps } from "./console-seed.js";

/**
 * The console in a real browser (chromium): sign in with the keyboard, filter a list, open a
 * thread and watch an event arrive live, approve an action with an edited argument and deny one
 * with a reason, sign out; another organization's id answers 404 and a POST without the CSRF token
 * 403; axe finds no serious or critical violation; the README's two screenshots are taken here.
 * Skipped without chromium on a workstation, failing under CI=true.
 */
const KEY = "console-browser-key-0123456789";
const OTHER_KEY = "console-browser-other-0123456789";
const ORG = "org_acme";
const OTHER = "org_globex";
// The README's screenshots are written to docs/ when AGENT_SESSIONS_SCREENSHOTS=1 (to refresh them);
// otherwise they are taken all the same, into a scratch folder, so a test run leaves the tree as it was.
const DOCS =
  process.env.AGENT_SESSIONS_SCREENSHOTS === "1"
    ? resolve(dirname(fileURLToPath(import.meta.url)), "../../../docs")
    : resolve(tmpdir(), "agent-sessions-console-screenshots");
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

describe.skipIf(skipWithoutChromium("console"))("console in chromium", () => {
  const engine = createEngine({ store: new MemoryStore(), webhooks: { allowPrivateAddresses: true, retrySchedule: [] } });
  const router = createRouter({
    engine,
    apiKeys: [
      { orgId: ORG, key: KEY, label: "ops-console" },
      { orgId: OTHER, key: OTHER_KEY },
    ],
    console: true,
  });
  let browser: Browser;
  let origin: string;
  let close: () => Promise<void>;
  let receiver: Server;
  const api = apiAt(() => origin, KEY);
  let threadId: string;
  let theirThread: string;
  let actions: { id: string }[];

  /** What an organization has, a day of it: forms, a workflow with steps, a thread with actions, an agent run, webhooks. */
  async function seed() {
    const address = new URL(receiver.url!);
    await engine.webhooks.create(ORG, { url: `http://127.0.0.1:${address.port}/ok`, description: "Ops alerts" });
    await engine.webhooks.create(ORG, { url: `http://127.0.0.1:${address.port}/broken`, events: ["session.created"], description: "Old CRM" });
    const form = await engine.forms.create(ORG, {
      name: "Support intake",
      slug: "support-intake",
      fields: [
        { name: "email", type: "email", required: true },
        { name: "issue", type: "textarea" },
        { name: "ticket", type: "hidden" },
      ],
    });
    for (let i = 0; i < 4; i++) {
      const session = await engine.formSessions.create(ORG, form.id, { prefill: { ticket: `T-10${i}` }, expiresIn: [1200, 1800, 2400, 7200][i]! });
      if (i < 2) await engine.formSessions.submit(session.id, { values: { email: `person${i}@example.com`, issue: "The export fails" } });
    }
    await workflowWithSteps(engine, ORG, 2300, [{ action: "create_inbox", durationMs: 14 }]);
    await agentRun(engine, ORG, { input_tokens: 812, output_tokens: 164 }, { title: "Triage ticket T-100", tags: ["support"] });
    const thread = await engine.threads.create(ORG, { contextVariables: { CUSTOMER_TIER: "gold", OPEN_TICKETS: 2 } });
    threadId = thread.id;
    const schema = {
      type: "object",
      properties: { to: { type: "string" }, amount: { type: "number", maximum: 1000 } },
      required: ["to", "amount"],
      additionalProperties: false,
    };
    actions = [
      await engine.threads.proposeAction(ORG, thread.id, {
        tool: "refund",
        preview: { summary: "Refund the March invoice", invoice: "2026-031" },
        args: { to: "ana@example.com", amount: 120 },
        argsSchema: schema,
      }),
      await engine.threads.proposeAction(ORG, thread.id, {
        tool: "close_account",
        preview: { summary: "Close the customer's account" },
        args: { account: "acc_42" },
      }),
    ];
    theirThread = (await engine.threads.create(OTHER, {})).id;
    await engine.tick();
  }

  /** axe's violations of the page that are serious or critical, with their nodes. */
  async function axeViolations(page: Page): Promise<unknown[]> {
    // Evaluated through the DevTools protocol, which the page's CSP does not govern.
    await page.evaluate(AXE_SOURCE);
    const violations = (await page.evaluate(async () => (await (window as any).axe.run(document)).violations)) as any[];
    return violations
      .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
      .map((violation) => ({ id: violation.id, impact: violation.impact, nodes: violation.nodes.map((node: any) => node.target) }));
  }

  /** Clicks `button` in the form that holds the field `selector`. */
  function press(page: Page, selector: string, button: "Approve" | "Deny") {
    return page
      .locator("form", { has: page.locator(selector) })
      .getByRole("button", { name: button })
      .click();
  }

  beforeAll(async () => {
    receiver = serve({
      fetch: (request) => new Response(null, { status: new URL(request.url).pathname === "/ok" ? 204 : 500 }),
      hostname: "127.0.0.1",
      port: 0,
      silent: true,
      gracefulShutdown: false,
    });
    await receiver.ready();
    await seed();
    ({ browser, origin, close } = await startBrowser(router));
    await mkdir(DOCS, { recursive: true });
  });

  afterAll(async () => {
    await close?.();
    await receiver?.close(true);
    await engine.close();
  });

  it("signs in, filters, watches a thread live, approves with an edit, denies with a reason, refuses what it must, and signs out", async () => {
    const { page, violations } = await newPage(browser);
    await page.setViewportSize({ width: 1280, height: 900 });

    // Sign in with the keyboard alone: the skip link, then the key, then Enter.
    await page.goto(`${origin}/console`);
    await expect.poll(() => new URL(page.url()).pathname).toBe("/console/login");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    await page.keyboard.type(KEY);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Overview", level: 1 }).waitFor();
    expect(await page.getByRole("row", { name: /submitted 2/ }).count()).toBe(1);
    expect(await page.getByRole("img", { name: /Form sessions per hour/ }).count()).toBe(1);
    expect(await page.getByRole("img", { name: /Webhook delivery latency/ }).count()).toBe(1);
    await expect.poll(() => page.locator("text=HTTP 500").count()).toBeGreaterThan(0);
    await page.screenshot({ path: resolve(DOCS, "console-overview.png"), fullPage: true });
    expect(await axeViolations(page)).toEqual([]);

    // Filter the form sessions to the submitted ones.
    await page.getByRole("link", { name: "Form sessions", exact: true }).first().click();
    await page.getByLabel("Status").selectOption("submitted");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/status=submitted/);
    const badges = await page.locator("tbody .badge").allTextContents();
    expect(badges).toEqual(["submitted", "submitted"]);
    await page.locator("tbody a.mono").first().click();
    await page.getByText("hidden field").first().waitFor();

    // Open the thread and watch an event arrive live.
    await page.goto(`${origin}/console/threads`);
    await page.getByRole("link", { name: threadId }).click();
    await page.locator("ol[data-live=true]").waitFor();
    await api("PATCH", `/api/v1/sessions/${threadId}`, { context_variables: { LAST_CONTACT: "2026-03-02" } });
    await page.locator("ol.timeline li.new", { hasText: "context.updated" }).waitFor();
    expect(await page.locator("#live-status").textContent()).toBe("New event: context.updated");
    await page.screenshot({ path: resolve(DOCS, "console-session.png"), fullPage: true });
    expect(await axeViolations(page)).toEqual([]);

    // Approve the refund with an edited amount; deny the other with a reason.
    const [refund, closing] = actions as [{ id: string }, { id: string }];
    await page.locator(`#args-${refund.id}`).fill(JSON.stringify({ to: "ana@example.com", amount: 95 }));
    await press(page, `#args-${refund.id}`, "Approve");
    await page.getByText("The action was approved.").waitFor();
    expect(await engine.threads.getAction(ORG, threadId, refund.id)).toMatchObject({
      status: "processing",
      args: { to: "ana@example.com", amount: 95 },
      originalArgs: { to: "ana@example.com", amount: 120 },
      decidedBy: `${ORG}/ops-console`,
    });
    await page.locator(`#reason-${closing.id}`).fill("The customer still has open tickets");
    await press(page, `#reason-${closing.id}`, "Deny");
    await page.getByText("The action was denied.").waitFor();
    expect(await engine.threads.getAction(ORG, threadId, closing.id)).toMatchObject({
      status: "cancelled",
      reason: "The customer still has open tickets",
      decidedBy: `${ORG}/ops-console`,
    });

    // Readable at 320 px: nothing wider than the screen.
    await page.setViewportSize({ width: 320, height: 800 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);

    // Another organization's id is absent; a POST without the CSRF token is refused.
    const theirs = await page.goto(`${origin}/console/s/${theirThread}`);
    expect(theirs!.status()).toBe(404);
    const refused = await page.evaluate(async () => (await fetch("/console/logout", { method: "POST", body: new URLSearchParams({}) })).status);
    expect(refused).toBe(403);

    // Sign out: the console asks for a key again.
    await page.goto(`${origin}/console`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.goto(`${origin}/console/actions`);
    await expect.poll(() => new URL(page.url()).pathname).toBe("/console/login");
    expect(violations).toEqual([]);
  }, 40_000);
});
