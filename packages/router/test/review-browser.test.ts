import { resolve } from "node:path";
import { createEngine, type PendingAction } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter } from "@agent-sessions/router";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, apiAt, newPage, skipWithoutChromium, startBrowser } from "./chromium.js";

/**
 * The review page of a pending action in a real browser (chromium): a person edits an argument
 * and approves, and the tool runs with the edit; another denies with a reason. Skipped without
 * chromium on a workstation, failing under CI=true.
 */
const KEY = "review-browser-key";

describe.skipIf(skipWithoutChromium("review page"))("review page in chromium", () => {
  const runs: { tool: string; args: unknown }[] = [];
  const engine = createEngine({
    store: new MemoryStore(),
    actions: {
      transfer: (action: PendingAction) => {
        runs.push({ tool: action.tool, args: action.args });
        return { transferred: true };
      },
    },
  });
  const router = createRouter({ engine, apiKeys: [{ orgId: "org_review_browser", key: KEY }] });
  let browser: Browser;
  let origin: string;
  let close: () => Promise<void>;
  const api = apiAt(() => origin, KEY);

  const SCHEMA = {
    type: "object",
    properties: {
      to: { type: "string", title: "Recipient" },
      amount: { type: "number", title: "Amount", maximum: 1000, description: "In euros" },
      urgent: { type: "boolean", title: "Urgent" },
      currency: { enum: ["EUR", "USD"], title: "Currency" },
    },
    required: ["to", "amount"],
    additionalProperties: false,
  };
  const ARGS = { to: "ana@example.com", amount: 120, urgent: false, currency: "EUR" };

  async function propose() {
    const thread = await api("POST", "/api/v1/threads", {});
    const proposed = await api("POST", `/api/v1/sessions/${thread.thread_id}/actions`, {
      tool: "transfer",
      preview: { summary: "Pay Ana for the March invoice", invoice: { number: "2025-031", total: "120.00 EUR" } },
      args: ARGS,
      args_schema: SCHEMA,
    });
    const action = () => api("GET", `/api/v1/sessions/${thread.thread_id}/actions/${proposed.action_id}`);
    return { url: proposed.review_url as string, action };
  }

  /** The control a label names; a required field's label ends with its "*" mark. */
  function field(page: Page, label: string) {
    return page.getByLabel(new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\*?$`));
  }

  /** Clicks a submit button and answers the POST's response. */
  async function press(page: Page, button: "Approve" | "Deny") {
    const [answer] = await Promise.all([
      page.waitForResponse((response) => response.request().method() === "POST"),
      page.getByRole("button", { name: button, exact: true }).click(),
    ]);
    return answer;
  }

  beforeAll(async () => {
    ({ browser, origin, close } = await startBrowser(router));
  });

  afterAll(async () => {
    await close?.();
  });

  it("approves with an edited amount: refused beside the field when over the schema's maximum, then run with the edit", async () => {
    const { url, action } = await propose();
    expect(url.startsWith(`${origin}/r/`)).toBe(true);
    const { page, violations } = await newPage(browser);
    const loaded = await page.goto(url);
    expect(loaded?.status()).toBe(200);
    expect(await page.title()).toBe("Review · transfer");
    await page.getByRole("heading", { name: "Review “transfer”" }).waitFor();
    expect(await page.locator("dl.kv").textContent()).toContain("Pay Ana for the March invoice");
    expect(await field(page, "Recipient").inputValue()).toBe("ana@example.com");
    expect(await field(page, "Amount").inputValue()).toBe("120");
    expect(await field(page, "Amount").getAttribute("type")).toBe("number");
    expect(await field(page, "Urgent").isChecked()).toBe(false);
    expect(await field(page, "Currency").inputValue()).toBe("EUR");
    // The stylesheet ran under the CSP: Approve wears the accent colour.
    expect(await page.getByRole("button", { name: "Approve" }).evaluate((b) => getComputedStyle(b).backgroundColor)).toBe("rgb(47, 79, 216)");
    // Loading the page decided nothing.
    expect((await action()).status).toBe("pending");
    await page.screenshot({ path: resolve(ARTIFACTS, "review-page.png"), fullPage: true });

    await field(page, "Amount").fill("5000");
    const refused = await press(page, "Approve");
    expect(refused.status()).toBe(400);
    expect(await page.locator("#arg-1-error").textContent()).toBe("5000 is greater than 1000.");
    expect(await field(page, "Amount").inputValue()).toBe("5000");
    expect((await action()).status).toBe("pending");
    await page.screenshot({ path: resolve(ARTIFACTS, "review-page-error.png"), fullPage: true });

    await field(page, "Amount").fill("250");
    await field(page, "Urgent").check();
    const approved = await press(page, "Approve");
    expect(approved.status()).toBe(200);
    await page.getByRole("heading", { name: "Approved: transfer" }).waitFor();
    await page.screenshot({ path: resolve(ARTIFACTS, "review-approved.png"), fullPage: true });
    expect(violations).toEqual([]);

    const edited = { ...ARGS, amount: 250, urgent: true };
    expect(await action()).toMatchObject({ status: "processing", args: edited, original_args: ARGS, args_changed: true, decided_via: "link" });
    await engine.tick();
    await engine.tick();
    expect(runs).toEqual([{ tool: "transfer", args: edited }]);
    expect((await action()).status).toBe("succeeded");

    // The link now shows the outcome and decides nothing again.
    expect((await page.goto(url))?.status()).toBe(200);
    await page.getByRole("heading", { name: "Approved: transfer" }).waitFor();
    expect(await page.getByRole("button").count()).toBe(0);
    await page.close();
  });

  it("denies with a reason, which the action and the page then show", async () => {
    const { url, action } = await propose();
    const { page, violations } = await newPage(browser);
    await page.goto(url);
    await page.getByLabel(/^Reason/).fill("Wrong account: pay the savings one.");
    const denied = await press(page, "Deny");
    expect(denied.status()).toBe(200);
    await page.getByRole("heading", { name: "Denied: transfer" }).waitFor();
    expect(await page.locator("blockquote.reason").textContent()).toBe("Wrong account: pay the savings one.");
    await page.screenshot({ path: resolve(ARTIFACTS, "review-denied.png"), fullPage: true });
    expect(violations).toEqual([]);
    expect(await action()).toMatchObject({
      status: "cancelled",
      reason: "Wrong account: pay the savings one.",
      decided_via: "link",
      decided_by: "link",
      args_changed: false,
    });
    await page.close();
  });
});
