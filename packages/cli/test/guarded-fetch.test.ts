// The fetch serve delivers webhooks with: the address it connects to is the address it checked.
import { lookup } from "node:dns/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { createEngine, isPrivateAddress } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { afterEach, describe, expect, it } from "vitest";
import { SPECIAL_TARGETS } from "../../core/test/webhook-target-cases.js";
import { createGuardedFetch, createWebhookSender, type LookupAll } from "../src/guarded-fetch.js";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A receiver on 127.0.0.1 that answers `status` and records what it got. */
async function receiver(status: number, extra: Record<string, string> = {}) {
  const got: { method?: string; headers?: Record<string, unknown>; body?: string }[] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      got.push({ method: request.method, headers: request.headers, body });
      response.writeHead(status, extra);
      response.end(status === 204 ? undefined : "x".repeat(100_000));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, got };
}

const send = { method: "POST", headers: { "content-type": "application/json", "webhook-id": "evt_1" }, body: '{"type":"x"}' };

describe("the guarded webhook fetch", () => {
  it("refuses a literal special-purpose address before connecting", async () => {
    const { port, got } = await receiver(204);
    await expect(createGuardedFetch()(`http://127.0.0.1:${port}/hook`, send)).rejects.toThrow(
      "refused: 127.0.0.1 is a special-purpose address (loopback)",
    );
    await expect(createGuardedFetch()(`http://[::1]:${port}/hook`, send)).rejects.toThrow("refused: [::1] is a special-purpose address (loopback)");
    await expect(createGuardedFetch()(`http://[::ffff:127.0.0.1]:${port}/hook`, send)).rejects.toThrow(
      "refused: [::ffff:7f00:1] is a special-purpose address (IPv4-mapped form of 127.0.0.1, loopback)",
    );
    expect(got).toHaveLength(0);
  });

  it("asks its refusal of a literal address at every request, so a refusal that changes its answer is heard", async () => {
    const { port, got } = await receiver(204);
    let asked = 0;
    const sender = createWebhookSender({ refusal: (address) => (++asked <= 2 ? `refused for now (${address})` : null) });
    const request = { headers: { "content-type": "application/json" }, body: "{}", timeoutMs: 5_000 };
    const url = new URL(`http://127.0.0.1:${port}/hook`);
    await expect(sender(url, request)).rejects.toThrow("refused: 127.0.0.1 is refused for now (127.0.0.1)");
    await expect(sender(url, request)).rejects.toThrow("refused: 127.0.0.1 is refused for now (127.0.0.1)");
    expect(await sender(url, request)).toBe(204);
    expect(got).toHaveLength(1);
  });

  it("refuses, in the connection's own lookup, a name resolving to any special-purpose address", async () => {
    const { port, got } = await receiver(204);
    for (const [, address, why] of SPECIAL_TARGETS) {
      const lookup: LookupAll = async () => [
        { address: "8.8.8.8", family: 4 },
        { address, family: address.includes(":") ? 6 : 4 },
      ];
      await expect(createGuardedFetch({ lookup })(`http://hooks.example.com:${port}/hook`, send), address).rejects.toThrow(
        `refused: hooks.example.com resolves to ${address}, a special-purpose address (${why})`,
      );
    }
    const garbage: LookupAll = async () => [{ address: "not-an-address", family: 4 }];
    await expect(createGuardedFetch({ lookup: garbage })(`http://hooks.example.com:${port}/hook`, send)).rejects.toThrow(
      "refused: hooks.example.com resolves to not-an-address, no IP address",
    );
    // The real resolver, for a name every system resolves to loopback.
    await expect(createGuardedFetch()(`http://localhost:${port}/hook`, send)).rejects.toThrow(
      /^refused: localhost resolves to (127\.0\.0\.1|::1), a special-purpose address \(loopback\)$/,
    );
    expect(got).toHaveLength(0);
  });

  it("connects to the address its lookup checked, so a name that rebinds after the engine's check is refused", async () => {
    const { port, got } = await receiver(204);
    // The lookup answers once per connection: what it answers is what is connected to.
    const toLoopback: LookupAll = async () => [{ address: "127.0.0.1", family: 4 }];
    const open = createGuardedFetch({ lookup: toLoopback, refusal: () => null });
    expect((await open(`http://hooks.example.com:${port}/hook`, send)).status).toBe(204);
    expect(got).toHaveLength(1);

    // The engine's own check sees a public address; the connection's lookup then sees loopback.
    // The request above left a pooled connection to the same host and port, made without this
    // fetch's check: it must not be reused.
    const engine = createEngine({
      store: new MemoryStore(),
      fetch: createGuardedFetch({ lookup: toLoopback }),
      webhooks: { resolveHost: async () => ["93.184.215.14"], retrySchedule: [60_000] },
    });
    const hook = await engine.webhooks.create("org_1", { url: `http://hooks.example.com:${port}/hook` });
    await engine.workflows.create("org_1", { name: "signup" });
    await engine.tick();
    expect((await engine.webhooks.deliveries("org_1", hook.id)).data.map((attempt) => attempt.error)).toEqual([
      "refused: hooks.example.com resolves to 127.0.0.1, a special-purpose address (loopback)",
    ]);
    expect(got).toHaveLength(1);
    await engine.close();
  });

  it("refuses a name that resolves to a private address, in the connection's own lookup", async (context) => {
    const name = hostname();
    const addresses = await lookup(name, { all: true }).catch(() => []);
    if (isPrivateAddress(name) || addresses.length === 0 || !addresses.every((entry) => isPrivateAddress(entry.address))) {
      console.warn(`!!! skipping: this machine's name ${name} does not resolve only to private addresses`);
      context.skip();
    }
    const { port, got } = await receiver(204);
    await expect(createGuardedFetch()(`http://${name}:${port}/hook`, send)).rejects.toThrow(`refused: ${name} resolves to`);
    expect(got).toHaveLength(0);
  });

  it("sends the body and headers, answers the status, and follows no redirect", async () => {
    const open = createGuardedFetch({ refusal: () => null }); // this test's receiver is on loopback
    const ok = await receiver(204);
    const answered = await open(`http://127.0.0.1:${ok.port}/hook`, send);
    expect(answered.status).toBe(204);
    expect(ok.got[0]).toMatchObject({ method: "POST", body: '{"type":"x"}', headers: { "webhook-id": "evt_1", "content-length": "12" } });

    const moved = await receiver(307, { location: "http://169.254.169.254/latest" });
    const redirect = await open(`http://127.0.0.1:${moved.port}/hook`, send);
    expect(redirect.status).toBe(307);
    expect(moved.got).toHaveLength(1);

    const failing = await receiver(500);
    expect((await open(`http://127.0.0.1:${failing.port}/hook`, send)).status).toBe(500);
  });

  it("gives up when its signal aborts", async () => {
    const server = createServer(() => {}); // never answers
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const open = createGuardedFetch({ refusal: () => null });
    await expect(open(`http://127.0.0.1:${port}/`, { ...send, signal: AbortSignal.timeout(100) })).rejects.toThrow();
  });
});
