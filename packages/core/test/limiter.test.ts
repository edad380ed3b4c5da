import { MemoryStore } from "@agent-sessions/memory";
import { describe, expect, it } from "vitest";
import { KeyedLimiter } from "../src/engine/limiter.js";
import { createEngine } from "../src/index.js";

const ORG = "org_00000000000000000000000000000001";
const pause = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("KeyedLimiter", () => {
  it("runs at most `limit` tasks per key, in order, and keys apart", async () => {
    const limiter = new KeyedLimiter(2);
    const running = new Map<string, number>();
    const most = new Map<string, number>();
    const order: string[] = [];
    const task = (key: string, name: string) =>
      limiter.run(key, async () => {
        running.set(key, (running.get(key) ?? 0) + 1);
        most.set(key, Math.max(most.get(key) ?? 0, running.get(key)!));
        order.push(name);
        await pause();
        running.set(key, running.get(key)! - 1);
        return name;
      });
    const results = await Promise.all([...Array.from({ length: 6 }, (_, i) => task("a", `a${i}`)), task("b", "b0"), task("b", "b1")]);
    expect(results).toEqual(["a0", "a1", "a2", "a3", "a4", "a5", "b0", "b1"]);
    expect(Object.fromEntries(most)).toEqual({ a: 2, b: 2 });
    expect(order.filter((name) => name.startsWith("a"))).toEqual(["a0", "a1", "a2", "a3", "a4", "a5"]);
  });

  it("passes a failed task's slot on", async () => {
    const limiter = new KeyedLimiter(1);
    await expect(limiter.run("k", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await limiter.run("k", async () => "next")).toBe("next");
  });
});

describe("deliveries to one endpoint", () => {
  it("keep at most maxConcurrentPerEndpoint requests open to it", async () => {
    let open = 0;
    let most = 0;
    let received = 0;
    const engine = createEngine({
      store: new MemoryStore(),
      webhooks: { allowPrivateAddresses: true, maxConcurrentPerEndpoint: 3 },
      fetch: async () => {
        open++;
        most = Math.max(most, open);
        await pause();
        open--;
        received++;
        return new Response(null, { status: 204 });
      },
    });
    await engine.webhooks.create(ORG, { url: "https://hooks.example.com/a", events: ["session.created"] });
    for (let index = 0; index < 20; index++) await engine.workflows.create(ORG, { name: `w${index}` });
    expect(await engine.tick()).toMatchObject({ deliveries: 20 });
    expect(received).toBe(20);
    expect(most).toBe(3);
    expect(() => createEngine({ store: new MemoryStore(), webhooks: { maxConcurrentPerEndpoint: 0 } })).toThrow(
      "createEngine: webhooks.maxConcurrentPerEndpoint must be a positive whole number",
    );
  });
});
