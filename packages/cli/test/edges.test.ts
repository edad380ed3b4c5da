// serve's own edges, on real sockets: what node:http would answer before the router (oversized
// headers, malformed requests, timeouts, Expect, CONNECT) in the router's JSON error shape, and the
// host of hosted form URLs.
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { parseServeArgs } from "../src/options.js";
import { type RunningServer, type StartOptions, startServer } from "../src/serve.js";

const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close(0)));
});

async function start(args: string[] = [], options: StartOptions = {}): Promise<{ server: RunningServer; port: number }> {
  const parsed = parseServeArgs(["--store", "memory", "--port", "0", "--api-key", "org:k", ...args], {});
  if (parsed.help) throw new Error("unexpected help");
  const server = await startServer(parsed.options, options);
  running.push(server);
  return { server, port: Number(new URL(server.url).port) };
}

/** What a raw connection received for `payload` (sent in pieces, with pauses, when given several) until the server closed it. */
function exchange(port: number, ...payload: (string | number)[]): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const began = Date.now();
    const socket = connect(port, "127.0.0.1");
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open; received: ${text}`));
    }, 8000);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (text += chunk));
    socket.on("error", () => {}); // a reset after the answer: the answer is what counts
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ text, closedAfterMs: Date.now() - began });
    });
    void (async () => {
      for (const part of payload) {
        if (typeof part === "number") await new Promise((wait) => setTimeout(wait, part));
        else if (!socket.destroyed) socket.write(part);
      }
    })();
  });
}

/** The status, headers and JSON body of the first answer in `text`. */
function parse(text: string): { status: number; headers: Record<string, string>; body: { error?: string; message?: string } } {
  const [head, ...rest] = text.split("\r\n\r\n");
  const [statusLine, ...lines] = head!.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) headers[line.slice(0, line.indexOf(":")).toLowerCase()] = line.slice(line.indexOf(":") + 1).trim();
  return { status: Number(statusLine!.split(" ")[1]), headers, body: JSON.parse(rest.join("\r\n\r\n")) };
}

function expectJsonError(text: string, status: number, error: string, message: string | RegExp) {
  const answer = parse(text);
  expect(answer.status).toBe(status);
  expect(answer.headers["content-type"]).toBe("application/json; charset=utf-8");
  expect(Number(answer.headers["content-length"])).toBe(Buffer.byteLength(JSON.stringify(answer.body)));
  expect(answer.headers.connection).toBe("close");
  expect(answer.body.error).toBe(error);
  if (typeof message === "string") expect(answer.body.message).toBe(message);
  else expect(answer.body.message).toMatch(message);
}

describe("serve: requests node:http refuses before the router", () => {
  it("answers a 20 KB URL and 3,000 headers with a JSON 431", async () => {
    const { port } = await start();
    const longUrl = await exchange(port, `GET /api/v1/sessions?q=${"a".repeat(20_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    expectJsonError(longUrl.text, 431, "Request header fields too large", "the request line and headers must be at most 16384 bytes together");
    const headers = Array.from({ length: 3000 }, (_, i) => `X-Header-${i}: v`).join("\r\n");
    const many = await exchange(port, `GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n\r\n`);
    expectJsonError(many.text, 431, "Request header fields too large", /at most 16384 bytes/);
  });

  it.each([
    ["a request line that is not HTTP", "HELLO\r\n\r\n", /^the request is not valid HTTP\/1\.1 \(Invalid method encountered\)$/],
    ["a header name with a space", "GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", /^the request is not valid HTTP\/1\.1 \(.+\)$/],
    ["two Content-Lengths", "POST /v1/forms HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", /Content-Length/],
    [
      "Content-Length beside chunked",
      "POST /v1/forms HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      /Transfer-Encoding/,
    ],
    ["a chunk size that is not hex", "POST /v1/forms HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", /chunk size/],
    ["HTTP/3.0", "GET / HTTP/3.0\r\nHost: x\r\n\r\n", /HTTP version/],
    ["the HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "HTTP/2 without TLS is not served here; send HTTP/1.1"],
    ["a NUL in the path", "GET /\0 HTTP/1.1\r\nHost: x\r\n\r\n", /^the request is not valid HTTP\/1\.1/],
    ["a relative request target", "GET foo HTTP/1.1\r\nHost: x\r\n\r\n", /^the request is not valid HTTP\/1\.1/],
    [
      "an ftp:// request target",
      "GET ftp://evil.example/ HTTP/1.1\r\nHost: x\r\n\r\n",
      "the request target is not a path or an absolute http(s) URL",
    ],
    ["an HTTP/1.1 request without Host", "GET /openapi.json HTTP/1.1\r\n\r\n", "the request has no Host header; HTTP/1.1 requires one"],
  ])("answers %s with a JSON 400", async (_, payload, message) => {
    const { port } = await start();
    expectJsonError((await exchange(port, payload)).text, 400, "Invalid request", message);
  });

  it("still serves an HTTP/1.0 request without Host, and answers a bad request after a good one on the same connection", async () => {
    const { port } = await start();
    const old = await exchange(port, "GET /openapi.json HTTP/1.0\r\n\r\n");
    expect(parse(old.text).status).toBe(200);
    const both = await exchange(port, "GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 200, "BAD REQUEST\r\n\r\n");
    const second = both.text.slice(both.text.indexOf("HTTP/1.1 400"));
    expect(both.text.startsWith("HTTP/1.1 200")).toBe(true);
    expectJsonError(second, 400, "Invalid request", /not valid HTTP\/1\.1/);
  });

  it("answers headers that trickle in past the headers timeout, and a body past the request timeout, with a JSON 408", async () => {
    const { port } = await start([], { httpLimits: { headersTimeoutMs: 300, requestTimeoutMs: 900 } });
    const slowHeaders = await exchange(port, "GET /openapi.json HTTP/1.1\r\n", 100, "Host: 127.0.0.1\r\n", 100, "X-Slow: 1\r\n");
    expectJsonError(
      slowHeaders.text,
      408,
      "Request timeout",
      "the request did not arrive in time: its headers within 0.3 seconds, all of it within 0.9",
    );
    expect(slowHeaders.closedAfterMs).toBeLessThan(2000);
    const slowBody = await exchange(
      port,
      "POST /v1/forms HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer k\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    );
    expectJsonError(slowBody.text, 408, "Request timeout", /did not arrive in time/);
  });

  it("answers an Expect other than 100-continue with a JSON 417, and honours 100-continue", async () => {
    const { port } = await start();
    const bogus = await exchange(port, "POST /v1/forms HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: bogus\r\nContent-Length: 2\r\n\r\n{}");
    expectJsonError(bogus.text, 417, "Expectation failed", "Expect: only 100-continue is supported, not 'bogus'");
    const body = JSON.stringify({ name: "signup" });
    const continued = await exchange(
      port,
      `POST /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer k\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
      100,
      body,
    );
    expect(continued.text.startsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201")).toBe(true);
  });

  it("answers CONNECT with a JSON 405: serve is no proxy", async () => {
    const { port } = await start();
    const answer = await exchange(port, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    expectJsonError(answer.text, 405, "Method not allowed", "CONNECT is not supported: this server is no proxy");
  });
});

describe("serve: the host of hosted form URLs", () => {
  /** The origin of the hosted URL of a session created with `Host: host` (and any extra header lines). */
  async function hostedUrlFor(port: number, host: string, extra = ""): Promise<string> {
    const form = JSON.stringify({ name: "Intake", fields: [{ name: "email", type: "email" }] });
    const post = (path: string, body: string) =>
      exchange(
        port,
        `POST ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}Authorization: Bearer k\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
    const created = parse((await post("/v1/forms", form)).text).body as { id: string };
    const session = parse((await post(`/v1/forms/${created.id}/sessions`, "{}")).text).body as { id: string; url: string };
    return session.url.replace(`/f/${session.id}`, "");
  }

  it("names the listening address for a Host nobody allowed, and a request's own host when it is one serve listens on", async () => {
    const { port, server } = await start();
    expect(await hostedUrlFor(port, "evil.example")).toBe(server.url);
    expect(await hostedUrlFor(port, `evil.example:${port}`)).toBe(server.url);
    expect(await hostedUrlFor(port, "127.0.0.1:1")).toBe(server.url);
    expect(await hostedUrlFor(port, `localhost:${port}`)).toBe(`http://localhost:${port}`);
    expect(await hostedUrlFor(port, `127.0.0.1:${port}`)).toBe(`http://127.0.0.1:${port}`);
    expect(await hostedUrlFor(port, `[::1]:${port}`)).toBe(`http://[::1]:${port}`);
  });

  it("names a host of --allowed-hosts after itself, and no other", async () => {
    const { port, server } = await start(["--allowed-hosts", "forms.example.com,.corp.example", "--allowed-hosts", "api.example.com:8443"]);
    expect(await hostedUrlFor(port, "forms.example.com")).toBe("http://forms.example.com");
    expect(await hostedUrlFor(port, "eu.corp.example:8080")).toBe("http://eu.corp.example:8080");
    expect(await hostedUrlFor(port, "api.example.com:8443")).toBe("http://api.example.com:8443");
    expect(await hostedUrlFor(port, "api.example.com")).toBe(server.url);
    expect(await hostedUrlFor(port, "evil.example")).toBe(server.url);
  });

  it("believes X-Forwarded-Host and -Proto only from a proxy named by --trust-proxy, and then only for an allowed host", async () => {
    const forwarded = (host: string) => `X-Forwarded-Host: ${host}\r\nX-Forwarded-Proto: https\r\n`;
    const plain = await start(["--allowed-hosts", "forms.example.com"]);
    expect(await hostedUrlFor(plain.port, `127.0.0.1:${plain.port}`, forwarded("forms.example.com"))).toBe(plain.server.url);
    const proxied = await start(["--allowed-hosts", "forms.example.com", "--trust-proxy", "loopback"]);
    expect(await hostedUrlFor(proxied.port, `127.0.0.1:${proxied.port}`, forwarded("forms.example.com"))).toBe("https://forms.example.com");
    expect(await hostedUrlFor(proxied.port, `127.0.0.1:${proxied.port}`, forwarded("evil.example"))).toBe(proxied.server.url);
  });
});
