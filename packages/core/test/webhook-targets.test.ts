// Where webhooks may point: only global unicast, judged after the URL parser normalizes the
// host, at creation and again before each delivery, for literal hosts and resolved names.
import { MemoryStore } from "@agent-sessions/memory";
import { afterEach, describe, expect, it } from "vitest";
import {
  type AgentSessionsError,
  checkWebhookUrl,
  classifyAddress,
  createEngine,
  type Engine,
  type EngineOptions,
  isPrivateAddress,
} from "../src/index.js";
import { LOCAL_NAMES, POLICY, PUBLIC_TARGETS, SPECIAL_TARGETS } from "./webhook-target-cases.js";

const ORG = "org_00000000000000000000000000000001";

/** Spellings the URL parser normalizes, each to a special-purpose address. */
const SPELLINGS: ReadonlyArray<readonly [string, string]> = [
  ["http://2130706433/", "127.0.0.1"],
  ["http://0x7f000001/", "127.0.0.1"],
  ["http://0x7f.1/", "127.0.0.1"],
  ["http://017700000001/", "127.0.0.1"],
  ["http://0177.0.0.1/", "127.0.0.1"],
  ["http://127.1/", "127.0.0.1"],
  ["http://127.0.1/", "127.0.0.1"],
  ["http://127.0.0.1./", "127.0.0.1"],
  ["http://0/", "0.0.0.0"],
  ["http://169.254.43518/", "169.254.169.254"],
  ["http://0xA9.0xFE.0xA9.0xFE/", "169.254.169.254"],
  ["http://3232235777/", "192.168.1.1"],
  ["http://[0:0:0:0:0:0:0:1]/", "::1"],
  ["http://[::FFFF:7F00:1]/", "::ffff:7f00:1"],
  ["http://[64:FF9B::127.0.0.1]:8080/x", "64:ff9b::7f00:1"],
  ["HTTPS://[FE80::1]/", "fe80::1"],
];

/** The error an operation failed with. */
const failure = (promise: Promise<unknown>): Promise<AgentSessionsError> =>
  promise.then(
    () => Promise.reject(new Error("expected the operation to fail")),
    (error: AgentSessionsError) => error,
  );

describe("webhook targets: literal hosts", () => {
  it("classifies every special-purpose address with its range, and global unicast as such", () => {
    for (const [host, address, why] of SPECIAL_TARGETS) {
      expect(classifyAddress(host), host).toEqual({ address, specialPurpose: why });
      expect(isPrivateAddress(host), host).toBe(true);
    }
    for (const host of PUBLIC_TARGETS) {
      expect(classifyAddress(host)?.specialPurpose, host).toBeNull();
      expect(isPrivateAddress(host), host).toBe(false);
    }
    // Resolver spellings: a zone, the dotted IPv4 tail, no brackets.
    expect(classifyAddress("fe80::1%eth0")).toEqual({ address: "fe80::1", specialPurpose: "link-local" });
    expect(classifyAddress("::ffff:169.254.169.254")?.specialPurpose).toBe("IPv4-mapped form of 169.254.169.254, link-local");
    for (const text of ["example.com", "", "localhost", "::1]/x[", "a@127.0.0.1", "1.2.3.4.5", "[::1", "1::2::3"]) {
      expect(classifyAddress(text), text).toBeNull();
      expect(isPrivateAddress(text), text).toBe(false);
    }
  });

  it("refuses them at creation, naming url and the range, and accepts them when allowed", () => {
    for (const [host, address, why] of SPECIAL_TARGETS) {
      const url = `https://${host}/hooks`;
      expect(() => checkWebhookUrl(url, { allowPrivate: false }), url).toThrow(`url: ${address} is a special-purpose address (${why}); ${POLICY}`);
      expect(checkWebhookUrl(url, { allowPrivate: true }).hostname).toBe(host.startsWith("[") ? `[${address}]` : address);
    }
    for (const host of PUBLIC_TARGETS) expect(checkWebhookUrl(`https://${host}/`, { allowPrivate: false }).protocol).toBe("https:");
  });

  it("judges every spelling the URL parser normalizes as the address it stands for", () => {
    for (const [url, address] of SPELLINGS) {
      expect(() => checkWebhookUrl(url, { allowPrivate: false }), url).toThrow(`url: ${address} is a special-purpose address`);
    }
    // A zone id is no part of a URL's host: such a URL is refused before any address is judged.
    expect(() => checkWebhookUrl("http://[fe80::1%25eth0]/", { allowPrivate: true })).toThrow(
      'url: "http://[fe80::1%25eth0]/" is not an absolute URL',
    );
    expect(() => checkWebhookUrl("http://127.0.0.1.5/", { allowPrivate: false })).toThrow("is not an absolute URL");
  });

  it("refuses names that stand for the server's own network whatever DNS says", () => {
    for (const [url, why] of LOCAL_NAMES) {
      expect(() => checkWebhookUrl(url, { allowPrivate: false }), url).toThrow(`url: ${why}; ${POLICY}`);
      expect(checkWebhookUrl(url, { allowPrivate: true }).href).toBe(new URL(url).href);
    }
    for (const url of ["https://hooks.example.com/", "https://localhost.example.com/", "https://internal.example.com/", "https://x.local.example/"]) {
      expect(checkWebhookUrl(url, { allowPrivate: false }).href, url).toBe(url);
    }
  });
});

describe("webhook targets through the engine", () => {
  const engines: Engine[] = [];
  const clock = { now: Date.UTC(2026, 0, 15, 10, 0, 0) };
  const sent: string[] = [];
  function engine(webhooks: EngineOptions["webhooks"] = {}): Engine {
    const fetch = async (input: string | URL | Request) => {
      sent.push(String(input));
      return new Response(null, { status: 204 });
    };
    const made = createEngine({ store: new MemoryStore(), clock: () => clock.now, fetch, webhooks: { retrySchedule: [1000], ...webhooks } });
    engines.push(made);
    return made;
  }
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((made) => made.close()));
    sent.length = 0;
  });

  it("refuses every special-purpose literal and local name at creation, and accepts public ones", async () => {
    const strict = engine();
    for (const [host, address, why] of SPECIAL_TARGETS) {
      const refused = await failure(strict.webhooks.create(ORG, { url: `https://${host}/h` }));
      expect([refused.code, refused.message], host).toEqual(["invalid_input", `url: ${address} is a special-purpose address (${why}); ${POLICY}`]);
    }
    for (const [url, why] of LOCAL_NAMES) expect((await failure(strict.webhooks.create(ORG, { url }))).message, url).toBe(`url: ${why}; ${POLICY}`);
    for (const host of PUBLIC_TARGETS) {
      const created = await strict.webhooks.create(ORG, { url: `https://${host}/h` });
      expect(created.url, host).toBe(new URL(`https://${host}/h`).href);
      await strict.webhooks.delete(ORG, created.id);
    }
    expect((await strict.webhooks.list(ORG)).total).toBe(0);
    const open = engine({ allowPrivateAddresses: true });
    for (const [host] of SPECIAL_TARGETS.slice(0, 12)) expect((await open.webhooks.create(ORG, { url: `https://${host}/h` })).status).toBe("active");
  });

  it("refuses at creation a name that resolves to any special-purpose address, among public ones or alone", async () => {
    for (const [, address, why] of SPECIAL_TARGETS) {
      const strict = engine({ resolveHost: async () => ["93.184.215.14", address] });
      const refused = await failure(strict.webhooks.create(ORG, { url: "https://hooks.example.com/h" }));
      expect(refused.message, address).toBe(`url: hooks.example.com resolves to ${address}, a special-purpose address (${why}); ${POLICY}`);
    }
    const publicOnly = engine({ resolveHost: async () => ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "::ffff:1.1.1.1"] });
    expect((await publicOnly.webhooks.create(ORG, { url: "https://hooks.example.com/h" })).status).toBe("active");
    const garbage = engine({ resolveHost: async () => ["not-an-address"] });
    expect((await failure(garbage.webhooks.create(ORG, { url: "https://hooks.example.com/h" }))).message).toBe(
      'url: hooks.example.com resolves to "not-an-address", which is no IP address',
    );
    // Not resolvable yet: accepted now, judged again before each delivery.
    const failing = engine({ resolveHost: async () => Promise.reject(new Error("ENOTFOUND")) });
    expect((await failing.webhooks.create(ORG, { url: "https://hooks.example.com/h" })).status).toBe("active");
  });

  it("refuses at delivery, after resolving again, a name that now points at each kind of special-purpose address", async () => {
    let answer: string[] = ["93.184.215.14"];
    const worker = engine({ resolveHost: async () => answer });
    const hook = await worker.webhooks.create(ORG, { url: "https://hooks.example.com/h" });
    const rebound = [...SPECIAL_TARGETS.map(([, address]) => [address]), [], ["not-an-address"]];
    for (const addresses of rebound) {
      answer = addresses;
      await worker.workflows.create(ORG, { name: "signup" });
      await worker.tick(clock.now);
      clock.now += 1; // the log orders attempts by when they started
    }
    answer = ["93.184.215.14"];
    await worker.workflows.create(ORG, { name: "after" });
    await worker.tick(clock.now);

    const log = (await worker.webhooks.deliveries(ORG, hook.id, { limit: 100 })).data.reverse();
    expect(log.map((attempt) => attempt.error)).toEqual([
      ...SPECIAL_TARGETS.map(
        ([, address, why]) => `refused: hooks.example.com resolves to ${address}, a special-purpose address (${why}); ${POLICY}`,
      ),
      "refused: hooks.example.com resolves to no address",
      'refused: hooks.example.com resolves to "not-an-address", which is no IP address',
      null,
    ]);
    expect(sent).toEqual(["https://hooks.example.com/h"]);
  });

  it("refuses at delivery a name it cannot resolve, and a literal target stored while private targets were allowed", async () => {
    const store = new MemoryStore();
    const open = createEngine({ store, clock: () => clock.now, webhooks: { allowPrivateAddresses: true } });
    engines.push(open);
    const literal = await open.webhooks.create(ORG, { url: "http://[64:ff9b::a9fe:a9fe]/latest/meta-data" });
    const fetch = async (input: string | URL | Request) => {
      sent.push(String(input));
      return new Response(null, { status: 204 });
    };
    const strict = createEngine({
      store,
      clock: () => clock.now,
      fetch,
      webhooks: { resolveHost: async () => Promise.reject(new Error("ENOTFOUND")) },
    });
    engines.push(strict);
    const named = await strict.webhooks.create(ORG, { url: "https://hooks.example.com/h" });
    await strict.workflows.create(ORG, { name: "signup" });
    await strict.tick(clock.now);
    expect((await strict.webhooks.deliveries(ORG, literal.id)).data.map((attempt) => attempt.error)).toEqual([
      `refused: 64:ff9b::a9fe:a9fe is a special-purpose address (NAT64 of 169.254.169.254, link-local); ${POLICY}`,
    ]);
    expect((await strict.webhooks.deliveries(ORG, named.id)).data.map((attempt) => attempt.error)).toEqual([
      "refused: hooks.example.com could not be resolved to check its addresses",
    ]);
    expect(sent).toEqual([]);
  });
});
