import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { ReceivedWebhook, TestReceiver } from "../src/testing.js";

/** A webhook receiver on a real node:http server on 127.0.0.1, answering `status` (or hanging). */
export async function httpReceiver(): Promise<TestReceiver & { hang(on: boolean): void; headers: IncomingMessage["headers"][] }> {
  let status = 204;
  let hanging = false;
  const received: ReceivedWebhook[] = [];
  const headers: IncomingMessage["headers"][] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (hanging) return; // never answers: the sender's timeout must end it
      headers.push(request.headers);
      received.push({
        id: String(request.headers["webhook-id"] ?? ""),
        timestamp: String(request.headers["webhook-timestamp"] ?? ""),
        signature: String(request.headers["webhook-signature"] ?? ""),
        body: Buffer.concat(chunks).toString("utf8"),
      });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    headers,
    answer(next) {
      status = next;
    },
    hang(on) {
      hanging = on;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
