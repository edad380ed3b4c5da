// POST /v1/webhooks refuses every special-purpose target with a 400 naming url and the range.
import { createEngine, type EngineOptions } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter } from "@agent-sessions/router";
import { describe, expect, it } from "vitest";
import { LOCAL_NAMES, POLICY, PUBLIC_TARGETS, SPECIAL_TARGETS } from "../../core/test/webhook-target-cases.js";

const KEY = "key_of_org_a";

function setup(webhooks: EngineOptions["webhooks"] = {}) {
  const engine = createEngine({ store: new MemoryStore(), webhooks });
  const router = createRouter({ engine, apiKeys: [{ orgId: "org_00000000000000000000000000000001", key: KEY }] });
  return async (body: unknown) => {
    const response = await router.fetch(
      new Request("http://localhost/v1/webhooks", {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    );
    return { status: response.status, body: await response.json() };
  };
}

describe("POST /v1/webhooks: targets", () => {
  it("answers 400 for every special-purpose literal and local name, and 201 for public addresses", async () => {
    const post = setup();
    for (const [host, address, why] of SPECIAL_TARGETS) {
      expect(await post({ url: `https://${host}/hook` }), host).toEqual({
        status: 400,
        body: { error: expect.any(String), message: `url: ${address} is a special-purpose address (${why}); ${POLICY}` },
      });
    }
    for (const [url, why] of LOCAL_NAMES) {
      expect(await post({ url }), url).toEqual({ status: 400, body: { error: expect.any(String), message: `url: ${why}; ${POLICY}` } });
    }
    expect((await post({ url: "http://2130706433/" })).body.message).toBe(`url: 127.0.0.1 is a special-purpose address (loopback); ${POLICY}`);
    for (const host of PUBLIC_TARGETS.slice(0, 6)) expect((await post({ url: `https://${host}/hook` })).status, host).toBe(201);
  });

  it("answers 400 for a name that resolves to a special-purpose address", async () => {
    const post = setup({ resolveHost: async (name) => (name === "rebind.example.net" ? ["8.8.8.8", "64:ff9b::7f00:1"] : ["8.8.8.8"]) });
    expect(await post({ url: "https://rebind.example.net/" })).toEqual({
      status: 400,
      body: {
        error: expect.any(String),
        message: `url: rebind.example.net resolves to 64:ff9b::7f00:1, a special-purpose address (NAT64 of 127.0.0.1, loopback); ${POLICY}`,
      },
    });
    expect((await post({ url: "https://hooks.example.net/" })).status).toBe(201);
  });

  it("accepts special-purpose targets when the engine allows private addresses", async () => {
    const post = setup({ allowPrivateAddresses: true });
    // The attacker's list from issue 16 (the endpoint limit is 20).
    for (const [host] of SPECIAL_TARGETS.slice(0, 12)) expect((await post({ url: `http://${host}/hook` })).status, host).toBe(201);
  });
});
