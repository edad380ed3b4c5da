// A connection dropped after the server committed a create: the client's retry, under the same
// Idempotency-Key, gets the first answer, and the server holds exactly one session.
import { createServer, type Server, Socket } from "node:net";
import { ApiError, createClient, NetworkError } from "@agent-sessions/client";
import { afterEach, describe, expect, it } from "vitest";
import { serve } from "../../cli/test/binary.js";

/**
 * A TCP proxy to `target` that forwards every request whole, but for the first `drops` requests
 * starting with `prefix` destroys the client's socket when the server's answer arrives, unrelayed.
 */
async function droppingProxy(target: URL, prefix: string, drops: number) {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  let left = drops;
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    sockets.add(client).add(upstream);
    let request = "";
    let dropThis = false;
    upstream.connect(Number(target.port), target.hostname);
    client.on("data", (chunk: Buffer) => {
      if (request === "") {
        request = chunk.toString("latin1");
        seen.push(request.split("\r\n")[0]!);
        if (request.startsWith(prefix) && left > 0) {
          left--;
          dropThis = true;
        }
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (dropThis) {
        client.destroy(); // the server has answered: it committed; the client never hears of it
        upstream.destroy();
      } else {
        client.write(chunk);
      }
    });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.on("error", () => {});
    upstream.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const proxies: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

describe("a create whose connection drops after the server committed", () => {
  it("is retried under the same Idempotency-Key and leaves exactly one session", async () => {
    const { url, devKey } = await serve(["--port", "0", "--store", "memory"]);
    const direct = createClient({ baseUrl: url, apiKey: devKey! });

    // Without retries the caller sees the failure, yet the session exists: the drop came after the commit.
    const once = await droppingProxy(new URL(url), "POST /api/v1/sessions ", 1);
    proxies.push(once);
    const unretried = createClient({ baseUrl: once.url, apiKey: devKey!, retries: 0 });
    const failure = await unretried.sessions.create({ name: "dropped-once" }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(NetworkError);
    expect((await direct.sessions.list()).data.map((s) => s.name)).toEqual(["dropped-once"]);

    const proxy = await droppingProxy(new URL(url), "POST /api/v1/sessions ", 2);
    proxies.push(proxy);
    const client = createClient({ baseUrl: proxy.url, apiKey: devKey!, backoff: { baseMs: 20 } });
    const session = await client.sessions.create({ name: "user-signup-flow", metadata: { environment: "staging" } });
    expect(proxy.seen.filter((line) => line.startsWith("POST /api/v1/sessions ")).length).toBe(3);

    const named = (await direct.sessions.list({ limit: 100 })).data.filter((s) => s.name === "user-signup-flow");
    expect(named.map((s) => s.id)).toEqual([session.id]);
    expect(session).toMatchObject({ name: "user-signup-flow", status: "active", metadata: { environment: "staging" } });
  });

  it("does not retry a POST that carries no Idempotency-Key: the caller decides", async () => {
    const { url, devKey } = await serve(["--port", "0", "--store", "memory"]);
    const direct = createClient({ baseUrl: url, apiKey: devKey! });
    const session = await direct.sessions.create({ name: "to-complete" });
    const proxy = await droppingProxy(new URL(url), `POST /api/v1/sessions/${session.id}/complete `, 1);
    proxies.push(proxy);
    const client = createClient({ baseUrl: proxy.url, apiKey: devKey! });
    await expect(client.sessions.complete(session.id)).rejects.toBeInstanceOf(NetworkError);
    expect(proxy.seen.length).toBe(1);
    expect((await direct.sessions.get(session.id)).status).toBe("completed");
    await expect(client.sessions.get("sess_00000000000000000000000000000000")).rejects.toBeInstanceOf(ApiError);
  });
});
