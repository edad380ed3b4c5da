// serve's webhook settings: the private-address switch (flag and environment), the resolver and the refusals.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { POLICY, SPECIAL_TARGETS } from "../../core/test/webhook-target-cases.js";
import { parseServeArgs, UsageError } from "../src/options.js";
import { resolveHost } from "../src/resolve-host.js";
import { startServer } from "../src/serve.js";

const optionsOf = (args: string[], env: Record<string, string> = {}) => {
  const parsed = parseServeArgs(["--store", "memory", ...args], env);
  if (parsed.help) throw new Error("unexpected help");
  return parsed.options;
};

describe("serve: webhooks", () => {
  it("allows private webhook targets only with --allow-private-webhooks or AGENT_SESSIONS_ALLOW_PRIVATE_WEBHOOKS=1", () => {
    expect(optionsOf([]).allowPrivateWebhooks).toBe(false);
    expect(optionsOf(["--allow-private-webhooks"]).allowPrivateWebhooks).toBe(true);
    expect(optionsOf([], { AGENT_SESSIONS_ALLOW_PRIVATE_WEBHOOKS: "1" }).allowPrivateWebhooks).toBe(true);
    expect(optionsOf([], { AGENT_SESSIONS_ALLOW_PRIVATE_WEBHOOKS: "0" }).allowPrivateWebhooks).toBe(false);
    expect(() => optionsOf([], { AGENT_SESSIONS_ALLOW_PRIVATE_WEBHOOKS: "yes" })).toThrow(
      new UsageError("AGENT_SESSIONS_ALLOW_PRIVATE_WEBHOOKS: 'yes' is not 1 or 0"),
    );
  });

  it("resolves host names for the delivery-time guard", async () => {
    const addresses = await resolveHost("localhost");
    expect(addresses.some((address) => address === "127.0.0.1" || address === "::1")).toBe(true);
  });

  it("refuses every special-purpose target by default, and delivers to a loopback one from its worker when allowed", async () => {
    const received: string[] = [];
    const receiver = createServer((request, response) => {
      received.push(String(request.headers["webhook-id"]));
      request.resume();
      response.writeHead(204).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const target = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const headers = { authorization: "Bearer k", "content-type": "application/json" };
    const post = (url: string, path: string, body: unknown) => fetch(`${url}${path}`, { method: "POST", headers, body: JSON.stringify(body) });

    const strict = await startServer(optionsOf(["--port", "0", "--api-key", "org:k"]));
    const refused = await post(strict.url, "/v1/webhooks", { url: target });
    expect(refused.status).toBe(400);
    expect((await refused.json()).message).toBe(`url: 127.0.0.1 is a special-purpose address (loopback); ${POLICY}`);
    for (const [host, address, why] of SPECIAL_TARGETS) {
      const answer = await post(strict.url, "/v1/webhooks", { url: `https://${host}/hook` });
      expect([answer.status, (await answer.json()).message], host).toEqual([400, `url: ${address} is a special-purpose address (${why}); ${POLICY}`]);
    }
    await strict.close();

    const open = await startServer(optionsOf(["--port", "0", "--api-key", "org:k", "--allow-private-webhooks"]), { tickIntervalMs: 20 });
    expect((await post(open.url, "/v1/webhooks", { url: target, events: ["session.created"] })).status).toBe(201);
    const session = await (await post(open.url, "/api/v1/sessions", { name: "signup" })).json();
    for (let i = 0; i < 250 && received.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    const [created] = await open.engine.timeline("org", session.id);
    expect(received).toEqual([created!.id]);
    await open.close();
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  });
});
