// The HTTP/1.1 client webhooks leave through: answers framed every way a receiver may frame them,
// connections reused only when the answer's end is known, and a stale keep-alive socket retried.
import { lookup as dnsLookup } from "node:dns";
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebhookClient } from "../src/webhook-client.js";

const servers: Server[] = [];
const clients: WebhookClient[] = [];
afterEach(async () => {
  for (const open of clients.splice(0)) open.close();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/**
 * A raw TCP receiver: `answer(request, socket, index)` writes whatever bytes it likes once a
 * whole request (head and `content-length` body) arrived. Counts connections and requests.
 */
async function rawReceiver(answer: (request: string, socket: Socket, index: number) => void) {
  const seen = { connections: 0, requests: [] as string[] };
  const server = createServer((socket) => {
    seen.connections++;
    let buffered = "";
    socket.on("data", (chunk) => {
      buffered += chunk.toString("latin1");
      for (;;) {
        const end = buffered.indexOf("\r\n\r\n");
        if (end === -1) return;
        const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const request = buffered.slice(0, end + 4 + length);
        buffered = buffered.slice(request.length);
        seen.requests.push(request);
        answer(request, socket, seen.requests.length - 1);
      }
    });
    socket.on("error", () => {});
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return { url: new URL(`http://127.0.0.1:${port}/hooks?x=1`), seen };
}

function client(): WebhookClient {
  const open = new WebhookClient({ lookup: dnsLookup });
  clients.push(open);
  return open;
}
const headers: [string, string][] = [
  ["content-type", "application/json"],
  ["webhook-id", "msg_1"],
];

describe("the webhook client", () => {
  it("writes one POST with the path, host, headers and content length", async () => {
    const { url, seen } = await rawReceiver((_, socket) => socket.write("HTTP/1.1 204 No Content\r\n\r\n"));
    expect(await client().post(url, headers, '{"a":"é"}')).toBe(204);
    expect(seen.requests[0]).toBe(
      `POST /hooks?x=1 HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\nwebhook-id: msg_1\r\ncontent-length: 10\r\n\r\n{"a":"é"}`.replace(
        "é",
        "\xc3\xa9",
      ),
    );
  });

  it("reuses a connection once the body of an answer framed by Content-Length is skipped, in one piece or several", async () => {
    let restWritten: () => void = () => {};
    const rest = new Promise<void>((resolve) => (restWritten = resolve));
    const { url, seen } = await rawReceiver((_, socket, index) => {
      if (index < 3) {
        socket.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        return;
      }
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello");
      setTimeout(() => socket.write(" world", () => restWritten()), 5);
    });
    const open = client();
    for (let i = 0; i < 3; i++) expect(await open.post(url, headers, "{}")).toBe(200);
    expect(seen.connections).toBe(1);
    expect(await open.post(url, headers, "{}")).toBe(200); // answered at its head; the body follows
    await rest;
    await new Promise((resolve) => setTimeout(resolve, 50)); // the client reads what was written
    expect(await open.post(url, headers, "{}")).toBe(200);
    expect(seen.requests).toHaveLength(5);
    expect(seen.connections).toBe(1);
  });

  it("closes the connection after a chunked, unframed, HTTP/1.0 or Connection: close answer", async () => {
    const answers = [
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 500 Oops\r\n\r\nno length",
      "HTTP/1.0 202 Accepted\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
    ];
    const { url, seen } = await rawReceiver((_, socket, index) => socket.write(answers[index]!));
    const open = client();
    const statuses = [];
    for (let i = 0; i < answers.length; i++) statuses.push(await open.post(url, headers, "{}"));
    expect(statuses).toEqual([200, 500, 202, 204, 200]);
    expect(seen.connections).toBe(answers.length);
  });

  it("skips interim answers (100 Continue, 103 Early Hints) for the final one", async () => {
    const { url } = await rawReceiver((_, socket) => {
      socket.write("HTTP/1.1 100 Continue\r\n\r\n");
      setTimeout(() => socket.write("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"), 5);
    });
    expect(await client().post(url, headers, "{}")).toBe(201);
  });

  it("sends again, on a new connection, a request whose reused connection the receiver had closed", async () => {
    const { url, seen } = await rawReceiver((_, socket, index) => {
      socket.write("HTTP/1.1 204 No Content\r\n\r\n");
      if (index === 0) setTimeout(() => socket.end(), 5); // the receiver's keep-alive timeout
    });
    const open = client();
    expect(await open.post(url, headers, "{}")).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await open.post(url, headers, "{}")).toBe(204);
    expect(seen.connections).toBe(2);
  });

  it("fails when a new connection closes before any answer, or the answer is no HTTP", async () => {
    const silent = await rawReceiver((_, socket) => socket.destroy());
    await expect(client().post(silent.url, headers, "{}")).rejects.toThrow("closed the connection");
    expect(silent.seen.requests).toHaveLength(1); // a request on a fresh connection is never sent twice
    const garbage = await rawReceiver((_, socket) => socket.write("SSH-2.0-OpenSSH\r\n\r\n"));
    await expect(client().post(garbage.url, headers, "{}")).rejects.toThrow("not HTTP/1.1");
  });

  it("gives up on answer headers over 64 KiB", async () => {
    const { url } = await rawReceiver((_, socket) => socket.write(`HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(70_000)}`));
    await expect(client().post(url, headers, "{}")).rejects.toThrow("exceed 65536 bytes");
  });

  it("refuses a header that would split the request, and one with an invalid name", async () => {
    const { url, seen } = await rawReceiver((_, socket) => socket.write("HTTP/1.1 204 No Content\r\n\r\n"));
    await expect(client().post(url, [["x-trace", "a\r\nx-injected: 1"]], "{}")).rejects.toThrow(
      'webhook header "x-trace" is not a valid HTTP header',
    );
    await expect(client().post(url, [["bad name", "1"]], "{}")).rejects.toThrow("is not a valid HTTP header");
    expect(seen.requests).toHaveLength(0);
  });

  it("gives up when its signal aborts, and refuses to start once aborted", async () => {
    const { url } = await rawReceiver(() => {}); // never answers
    await expect(client().post(url, headers, "{}", { signal: AbortSignal.timeout(50) })).rejects.toThrow();
    const aborted = new AbortController();
    aborted.abort(new Error("stopped"));
    await expect(client().post(url, headers, "{}", { signal: aborted.signal })).rejects.toThrow("stopped");
  });

  it("gives up at its time limit, kept by the socket's own timer, even while the answer trickles in", async () => {
    const silent = await rawReceiver(() => {}); // never answers
    const started = performance.now();
    await expect(client().post(silent.url, headers, "{}", { timeoutMs: 100 })).rejects.toMatchObject({
      name: "TimeoutError",
      message: "no answer within 100 ms",
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);

    // A byte every 40 ms keeps the socket active, but not past the request's deadline.
    const trickle = await rawReceiver((_, socket) => {
      const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write("H")), 40);
    });
    const begun = performance.now();
    await expect(client().post(trickle.url, headers, "{}", { timeoutMs: 150 })).rejects.toMatchObject({ name: "TimeoutError" });
    expect(performance.now() - begun).toBeLessThan(1000);

    // Answered in time, the connection is kept, its timer disarmed until it idles.
    const quick = await rawReceiver((_, socket) => socket.write("HTTP/1.1 204 No Content\r\n\r\n"));
    const open = client();
    expect(await open.post(quick.url, headers, "{}", { timeoutMs: 100 })).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await open.post(quick.url, headers, "{}", { timeoutMs: 100 })).toBe(204);
    expect(quick.seen.connections).toBe(1);
  });
});
