import { resolve } from "node:path";
import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter } from "@agent-sessions/router";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, apiAt, newPage as openPage, skipWithoutChromium, startBrowser } from "./chromium.js";

/**
 * The hosted form page in a real browser: Debian's chromium driven by playwright-core, against the
 * router served on a loopback port. Without chromium the test is skipped on a workstation and
 * fails under CI=true, where `.ci/run` installs it.
 */
const KEY = "browser-test-key";

describe.skipIf(skipWithoutChromium("hosted form"))("hosted form page in chromium", () => {
  const clock = { offsetMs: 0 };
  const engine = createEngine({ store: new MemoryStore(), clock: () => Date.now() + clock.offsetMs });
  const router = createRouter({ engine, apiKeys: [{ orgId: "org_browser", key: KEY }] });
  let browser: Browser;
  let origin: string;
  let close: () => Promise<void>;
  let formId: string;
  const api = apiAt(() => origin, KEY);

  /** The control a label names; a required field's label ends with its "*" mark. */
  function field(page: Page, label: string) {
    return page.getByLabel(new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\*?$`));
  }

  const newPage = (): Promise<{ page: Page; violations: string[] }> => openPage(browser);

  beforeAll(async () => {
    ({ browser, origin, close } = await startBrowser(router));
    const form = await api("POST", "/v1/forms", {
      name: "Support intake",
      slug: "support-intake",
      allowPartial: true,
      fields: [
        { name: "full_name", label: "Full name", type: "text", required: true },
        { name: "email", label: "Email", type: "email", required: true },
        { name: "phone", label: "Phone", type: "tel" },
        { name: "website", label: "Website", type: "url" },
        { name: "order_count", label: "Number of orders", type: "number" },
        { name: "preferred_date", label: "Preferred call date", type: "date" },
        { name: "topic", label: "Topic", type: "select", required: true, options: ["Billing", "Bug report", "Feature request"] },
        { name: "details", label: "What happened?", type: "textarea" },
        { name: "updates", label: "Email me about this request", type: "checkbox" },
        { name: "session_id", type: "hidden" },
      ],
    });
    formId = form.id;
  });

  afterAll(async () => {
    await close?.();
  });

  it("loads, shows labels and prefill, and submits to the thank-you page", async () => {
    const session = await api("POST", `/v1/forms/${formId}/sessions`, {
      prefill: { email: "user@example.com", session_id: "sess_internal_ref" },
    });
    expect(session.url).toBe(`${origin}/f/${session.id}`);
    const { page, violations } = await newPage();

    const loaded = await page.goto(session.url);
    expect(loaded?.status()).toBe(200);
    expect(await page.title()).toBe("Support intake");
    expect((await api("GET", `/v1/sessions/${session.id}`)).status).toBe("open");

    expect(await field(page, "Email").inputValue()).toBe("user@example.com");
    expect(await field(page, "Email").getAttribute("type")).toBe("email");
    expect(await field(page, "Phone").getAttribute("type")).toBe("tel");
    expect(await field(page, "Website").getAttribute("type")).toBe("url");
    expect(await field(page, "Number of orders").getAttribute("type")).toBe("number");
    expect(await field(page, "Preferred call date").getAttribute("type")).toBe("date");
    expect(await field(page, "Topic").evaluate((element) => element.tagName)).toBe("SELECT");
    expect(await field(page, "What happened?").evaluate((element) => element.tagName)).toBe("TEXTAREA");
    expect(await field(page, "Email me about this request").isChecked()).toBe(false);
    expect(await page.locator("[name=session_id]").count()).toBe(0);
    expect(await page.content()).not.toContain("sess_internal_ref");
    // The stylesheet ran under the CSP: the main button wears the accent colour, nothing was refused.
    expect(await page.getByRole("button", { name: "Submit", exact: true }).evaluate((b) => getComputedStyle(b).backgroundColor)).toBe(
      "rgb(47, 79, 216)",
    );

    await field(page, "Full name").fill("Ada Lovelace");
    await field(page, "Phone").fill("+44 20 7946 0958");
    await field(page, "Website").fill("https://example.com/ada");
    await field(page, "Number of orders").fill("3");
    await field(page, "Preferred call date").fill("2025-03-14");
    await field(page, "Topic").selectOption("Bug report");
    await field(page, "What happened?").fill("The invoice for March shows the wrong <total> & currency.");
    await field(page, "Email me about this request").check();
    await field(page, "Email me about this request").blur();
    await page.screenshot({ path: resolve(ARTIFACTS, "hosted-form.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: resolve(ARTIFACTS, "hosted-form-phone.png"), fullPage: true });

    const [answer] = await Promise.all([
      page.waitForResponse((response) => response.request().method() === "POST"),
      page.getByRole("button", { name: "Submit", exact: true }).click(),
    ]);
    expect(answer.status()).toBe(200);
    await page.getByRole("heading", { name: "Thank you" }).waitFor();
    expect(await page.content()).not.toContain("sess_internal_ref");
    expect(violations).toEqual([]);

    const submitted = await api("GET", `/v1/sessions/${session.id}`);
    expect(submitted.status).toBe("submitted");
    expect(submitted.submission).toMatchObject({
      partial: false,
      missing_fields: [],
      values: {
        full_name: "Ada Lovelace",
        email: "user@example.com",
        phone: "+44 20 7946 0958",
        website: "https://example.com/ada",
        order_count: 3,
        preferred_date: "2025-03-14",
        topic: "Bug report",
        details: "The invoice for March shows the wrong <total> & currency.",
        updates: true,
        session_id: "sess_internal_ref",
      },
    });

    expect((await page.goto(session.url))?.status()).toBe(200);
    await page.getByRole("heading", { name: "Thank you" }).waitFor();
    await page.close();
  });

  it("submits what was filled with 'Submit what I have', recorded as partial with the missing fields", async () => {
    const session = await api("POST", `/v1/forms/${formId}/sessions`, { prefill: { session_id: "sess_second" } });
    const { page, violations } = await newPage();
    await page.goto(session.url);
    await field(page, "Email").fill("grace@");
    await field(page, "Phone").fill("555 0100");

    // The main button asks for every required field: the browser keeps the person on the form.
    await page.getByRole("button", { name: "Submit", exact: true }).click();
    expect((await api("GET", `/v1/sessions/${session.id}`)).status).toBe("open");

    // "Submit what I have" skips the browser's checks; the server finds the bad address and sends
    // the form back with the error beside the field and the person's values kept.
    const [refused] = await Promise.all([
      page.waitForResponse((response) => response.request().method() === "POST"),
      page.getByRole("button", { name: "Submit what I have" }).click(),
    ]);
    expect(refused.status()).toBe(400);
    expect(await page.locator("#f-email-error").textContent()).toBe("Must be an email address.");
    expect(await field(page, "Email").getAttribute("aria-describedby")).toBe("f-email-error");
    expect(await field(page, "Email").inputValue()).toBe("grace@");
    expect(await field(page, "Phone").inputValue()).toBe("555 0100");
    await page.screenshot({ path: resolve(ARTIFACTS, "hosted-form-error.png"), fullPage: true });
    expect((await api("GET", `/v1/sessions/${session.id}`)).status).toBe("open");

    await field(page, "Email").fill("grace@example.com");
    const [answer] = await Promise.all([
      page.waitForResponse((response) => response.request().method() === "POST"),
      page.getByRole("button", { name: "Submit what I have" }).click(),
    ]);
    expect(answer.status()).toBe(200);
    await page.getByRole("heading", { name: "Thank you" }).waitFor();
    expect(await page.locator("main").textContent()).toContain("You left out: Full name, Topic.");
    await page.screenshot({ path: resolve(ARTIFACTS, "hosted-thank-you.png"), fullPage: true });
    expect(violations).toEqual([]);

    const { submission } = await api("GET", `/v1/sessions/${session.id}`);
    expect(submission.partial).toBe(true);
    expect(submission.missing_fields).toEqual(["full_name", "topic"]);
    expect(submission.values).toEqual({ email: "grace@example.com", phone: "555 0100", updates: false, session_id: "sess_second" });
    await page.close();
  });

  it("shows the expired page with 410 once the session is past its expiry", async () => {
    const session = await api("POST", `/v1/forms/${formId}/sessions`, { expires_in: 1, prefill: { session_id: "sess_third" } });
    clock.offsetMs += 2_000;
    try {
      const { page, violations } = await newPage();
      const loaded = await page.goto(session.url);
      expect(loaded?.status()).toBe(410);
      await page.getByRole("heading", { name: "This form has expired" }).waitFor();
      expect(await page.locator("form").count()).toBe(0);
      await page.screenshot({ path: resolve(ARTIFACTS, "hosted-expired.png"), fullPage: true });
      expect(violations).toEqual([]);
      expect((await api("GET", `/v1/sessions/${session.id}`)).status).toBe("expired");
      await page.close();
    } finally {
      clock.offsetMs -= 2_000;
    }
  });
});
