// sessions.events over Server-Sent Events: against the real router in process, and against
// handcrafted streams for what only a byte-level script can show (split characters, silence, cuts).
import { ApiError, createClient, type EventsOptions, type FetchLike, type TimelineEvent } from "@agent-sessions/client";
import { describe, expect, it, vi } from "vitest";
import { type EventStreamMessage, eventStreamParser } from "../src/event-stream.js";
import { inProcess, OTHER_KEY } from "./router.js";

const encoder = new TextEncoder();
const isEvents = (request: Request) => new URL(request.url).pathname.endsWith("/events");
const streamed = (request: Request) => request.headers.get("accept") === "text/event-stream";
const sinceOf = (request: Request) => new URL(request.url).searchParams.get("since");

/** A body the test writes to, which records whether (and why) the client cancelled it. */
function scriptedBody() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const cancelled: unknown[] = [];
  const body = new ReadableStream<Uint8Array>({
    start: (c) => void (controller = c),
    cancel: (reason) => void cancelled.push(reason),
  });
  return {
    body,
    cancelled,
    send: (text: string | Uint8Array) => controller.enqueue(typeof text === "string" ? encoder.encode(text) : text),
    close: () => controller.close(),
  };
}

/** A client whose every request is answered by the next of `answers`; `requests` records them. */
function scriptedClient(answers: (() => Response)[]) {
  const requests: Request[] = [];
  const fetch: FetchLike = async (input, init) => {
    requests.push(new Request(input, init));
    const answer = answers.shift();
    if (!answer) throw new TypeError("fetch failed: no more answers scripted");
    return answer();
  };
  const client = createClient({ baseUrl: "http://agent-sessions.test", apiKey: "key", fetch, backoff: { baseMs: 1, maxMs: 5 } });
  return { requests, events: (options?: EventsOptions) => client.sessions.events("sess_1", options) };
}

const eventStream = (body: ReadableStream<Uint8Array>) => new Response(body, { headers: { "content-type": "text/event-stream; charset=utf-8" } });
const timeline = (n: number, payload: Record<string, unknown> = {}): TimelineEvent => ({
  id: `evt_${n}`,
  timestamp: "2025-01-01T00:00:00.000Z",
  type: `step.${n}`,
  payload,
});
const frame = (event: TimelineEvent) => `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;

describe("the text/event-stream parser", () => {
  const parse = (chunks: (string | Uint8Array)[]) => {
    const parser = eventStreamParser();
    return chunks.flatMap((chunk) => parser.push(typeof chunk === "string" ? encoder.encode(chunk) : chunk));
  };
  const message = (id: string, event: string, data: string): EventStreamMessage => ({ id, event, data });

  const cases: [string, string, EventStreamMessage[]][] = [
    [
      "fields, with and without the space after the colon",
      "id: 1\nevent: a\ndata: x\n\nid:2\nevent:b\ndata:y\n\n",
      [message("1", "a", "x"), message("2", "b", "y")],
    ],
    ["data on several lines, joined by LF", 'data: {\ndata:  "k": 1\ndata: }\n\n', [message("", "message", '{\n "k": 1\n}')]],
    [
      "CRLF, CR and LF line ends, mixed",
      "data: a\r\n\r\ndata: b\r\rdata: c\n\n",
      [message("", "message", "a"), message("", "message", "b"), message("", "message", "c")],
    ],
    ["comments and heartbeats are skipped", ": connected\n\n: heartbeat\ndata: x\n: heartbeat\n\n: heartbeat\n\n", [message("", "message", "x")]],
    [
      "an id carries over to later events; the event name does not",
      "id: 7\nevent: a\ndata: x\n\ndata: y\n\n",
      [message("7", "a", "x"), message("7", "message", "y")],
    ],
    ["a block without data dispatches nothing but still sets the id", "id: 3\nevent: a\n\ndata: x\n\n", [message("3", "message", "x")]],
    ["a field without a colon has an empty value", "data\n\n", [message("", "message", "")]],
    ["an id holding NUL is ignored", "id: 1\ndata: x\n\nid: 2\u0000\ndata: y\n\n", [message("1", "message", "x"), message("1", "message", "y")]],
    ["retry and unknown fields are ignored", "retry: 2000\nfoo: bar\ndata: x\n\n", [message("", "message", "x")]],
    ["a leading byte order mark is dropped", "\uFEFFdata: x\n\n", [message("", "message", "x")]],
    ["an event the stream ends inside is never dispatched", "data: x\n\ndata: cut", [message("", "message", "x")]],
    ["multi-byte characters", "data: Grüße 🙂 — 日本\n\n", [message("", "message", "Grüße 🙂 — 日本")]],
  ];

  it.each(cases)("%s, however the bytes are split", (_name, text, expected) => {
    const bytes = encoder.encode(text);
    expect(parse([bytes])).toEqual(expected);
    expect(parse([...bytes].map((byte) => Uint8Array.of(byte)))).toEqual(expected);
    for (let at = 1; at < bytes.length; at++) expect(parse([bytes.slice(0, at), bytes.slice(at)])).toEqual(expected);
  });

  it("keeps a CR at the end of one chunk and the LF opening the next as one line end", () => {
    expect(parse(["data: a\r", "\n", "\r", "\n"])).toEqual([message("", "message", "a")]);
    expect(parse(["data: a\r", "\ndata: b\r", "\r"])).toEqual([message("", "message", "a\nb")]);
  });
});

describe("sessions.events over the router's stream", () => {
  it("yields the events already written, then each new one, in order and once, over one request", async () => {
    const { client, calls } = inProcess();
    const session = await client.sessions.create({ name: "streamed" });
    const inbox = await client.inboxes.create(session.id, { ttlSeconds: 60 });
    const events = client.sessions.events(session.id);
    const seen: string[] = [];
    const next = async () => seen.push(((await events.next()).value as TimelineEvent).type);

    await next();
    await next();
    expect(seen).toEqual(["session.created", "inbox.created"]);
    const pending = next(); // asked before the event exists: it arrives over the open stream
    await client.messages.create(inbox.id, { from: "a@example.com", subject: "code", body: "Your code is 123456" });
    await pending;
    await client.sessions.complete(session.id);
    await next();
    await events.return();

    const written = (await client.sessions.timeline(session.id)).events;
    expect(seen).toEqual(written.map((event) => event.type));
    const requests = calls.filter(isEvents);
    expect(requests.length).toBe(1);
    expect(streamed(requests[0]!)).toBe(true);
    expect(new URL(requests[0]!.url).searchParams.has("timeout")).toBe(false);
  });

  it("starts after `since`, and yields the same events the long-poll does", async () => {
    const { client, calls } = inProcess();
    const session = await client.sessions.create({ name: "resumed" });
    await client.inboxes.create(session.id, { ttlSeconds: 60 });
    await client.sessions.complete(session.id);
    const written = (await client.sessions.timeline(session.id)).events;

    const take = async (transport: "sse" | "poll", count: number) => {
      const events = client.sessions.events(session.id, { since: written[0]!.id, transport, pollSeconds: 1 });
      const taken: TimelineEvent[] = [];
      for await (const event of events) if (taken.push(event) === count) break;
      return taken;
    };
    const overStream = await take("sse", 2);
    expect(overStream).toEqual(written.slice(1));
    expect(await take("poll", 2)).toEqual(overStream);
    expect(calls.filter(isEvents).map(sinceOf)).toEqual([written[0]!.id, written[0]!.id]);
  });

  it("reconnects after a stream cut in the middle of an event, from the last event seen, losing and repeating nothing", async () => {
    let cuts = 0;
    const { client, calls } = inProcess({
      interpose: (next) => async (input, init) => {
        const answer = await next(input, init);
        if (!(init.headers as Record<string, string>).accept?.includes("text/event-stream") || cuts++ > 0) return answer;
        // Relay the first stream until the middle of its second event, then break it as a reset connection would.
        const upstream = answer.body!.getReader();
        let frames = 0;
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            const { done, value } = await upstream.read();
            if (done) return controller.close();
            if (new TextDecoder().decode(value).includes("\nevent: ") && ++frames === 2) {
              controller.enqueue(value.slice(0, value.length >> 1));
              await upstream.cancel();
              controller.error(new TypeError("terminated", { cause: { code: "ECONNRESET" } }));
              return;
            }
            controller.enqueue(value);
          },
        });
        return new Response(body, { status: answer.status, headers: answer.headers });
      },
    });
    const session = await client.sessions.create({ name: "cut" });
    await client.inboxes.create(session.id, { ttlSeconds: 60 });
    const events = client.sessions.events(session.id);
    const seen: TimelineEvent[] = [];
    for (let i = 0; i < 2; i++) seen.push((await events.next()).value as TimelineEvent);
    const third = events.next();
    await client.sessions.complete(session.id);
    seen.push((await third).value as TimelineEvent);
    await events.return();

    expect(seen).toEqual((await client.sessions.timeline(session.id)).events);
    const requests = calls.filter(isEvents);
    expect(requests.map(sinceOf)).toEqual([null, seen[0]!.id]);
    expect(requests.every(streamed)).toBe(true);
  });

  it("skips heartbeats, which keep a quiet stream open past the request timeout and the idle bound", async () => {
    let heartbeats = 0;
    let enough!: () => void;
    const beaten = new Promise<void>((resolve) => (enough = resolve));
    const { client, calls, engine } = inProcess({
      router: { heartbeatMs: 10 },
      client: { timeoutMs: 50 },
      interpose: (next) => async (input, init) => {
        const answer = await next(input, init);
        if (!answer.headers.get("content-type")?.startsWith("text/event-stream")) return answer;
        const count = new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            heartbeats += new TextDecoder().decode(chunk).split(": heartbeat").length - 1;
            if (heartbeats >= 30) enough();
            controller.enqueue(chunk);
          },
        });
        return new Response(answer.body!.pipeThrough(count), { headers: answer.headers });
      },
    });
    const session = await client.sessions.create({ name: "quiet" });
    const events = client.sessions.events(session.id, { idleSeconds: 0.2 });
    expect((await events.next()).value).toMatchObject({ type: "session.created" });
    const pending = events.next();
    await beaten; // 30 heartbeats of 10 ms: longer than both the 50 ms timeout and the 200 ms idle bound
    await client.sessions.complete(session.id);
    expect((await pending).value).toMatchObject({ type: "session.completed" });
    expect(calls.filter(isEvents).length).toBe(1);

    await events.return(); // leaving closes the connection: the router drops its subscription
    await vi.waitFor(() => expect(engine.events.all.get("*") ?? []).toEqual([]));
  });

  it("throws the ApiError of a missing session or a wrong key, without retrying", async () => {
    const { client, calls, router } = inProcess();
    const as = (apiKey: string) =>
      createClient({ baseUrl: "http://agent-sessions.test", apiKey, fetch: (input, init) => router.fetch(new Request(input, init)) });
    const missing = await client.sessions
      .events("sess_00000000000000000000000000000000")
      .next()
      .catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing).toMatchObject({ status: 404, error: "Not found" });

    const session = await client.sessions.create({ name: "theirs" });
    await expect(as("wrong").sessions.events(session.id).next()).rejects.toMatchObject({ name: "ApiError", status: 401 });
    await expect(as(OTHER_KEY).sessions.events(session.id).next()).rejects.toMatchObject({ name: "ApiError", status: 404 });
    expect(calls.filter(isEvents).length).toBe(1);
  });

  it("falls back to the long-poll when the answer is not an event stream", async () => {
    const { client, calls } = inProcess({
      // A proxy that drops the Accept header: the router answers the long-poll's JSON.
      interpose: (next) => (input, init) =>
        next(input, { ...init, headers: { ...(init.headers as Record<string, string>), accept: "application/json" } }),
    });
    const session = await client.sessions.create({ name: "proxied" });
    const events = client.sessions.events(session.id, { pollSeconds: 1 });
    expect((await events.next()).value).toMatchObject({ type: "session.created" });
    const pending = events.next();
    await client.sessions.complete(session.id);
    expect((await pending).value).toMatchObject({ type: "session.completed" });
    await events.return();

    const requests = calls.filter(isEvents);
    expect(requests.length).toBeGreaterThanOrEqual(3);
    expect(new URL(requests[0]!.url).searchParams.has("timeout")).toBe(false); // the stream it asked for
    expect(requests.slice(1).every((request) => new URL(request.url).searchParams.get("timeout") === "1")).toBe(true);
  });

  it('long-polls only with transport: "poll", and refuses an unknown transport', async () => {
    const { client, calls } = inProcess();
    const session = await client.sessions.create({ name: "polled" });
    const events = client.sessions.events(session.id, { transport: "poll", pollSeconds: 1 });
    expect((await events.next()).value).toMatchObject({ type: "session.created" });
    const pending = events.next();
    await client.sessions.complete(session.id);
    expect((await pending).value).toMatchObject({ type: "session.completed" });
    await events.return();
    expect(calls.filter(isEvents).some(streamed)).toBe(false);

    const unknown = client.sessions.events(session.id, { transport: "websocket" as "sse" }).next();
    await expect(unknown).rejects.toThrow('transport: must be "sse" or "poll", not "websocket"');
  });
});

describe("sessions.events over handcrafted streams", () => {
  it("decodes characters and lines split anywhere, CRLF included, skipping comments", async () => {
    const first = timeline(1, { text: "Grüße 🙂 — 日本" });
    const second = timeline(2, { lines: "a\r\nb" });
    const stream = scriptedBody();
    const events = scriptedClient([() => eventStream(stream.body)]).events();
    const json = JSON.stringify(second);
    const cut = json.indexOf('"timestamp"'); // data on two lines, joined by LF: JSON whitespace
    const text = `: connected\r\n\r\n${frame(first).replaceAll("\n", "\r\n")}: heartbeat\r\rid: ${second.id}\rdata: ${json.slice(0, cut)}\rdata: ${json.slice(cut)}\r\r`;
    // One byte a chunk: every character of more than one byte arrives in pieces.
    for (const byte of encoder.encode(text)) stream.send(Uint8Array.of(byte));
    expect((await events.next()).value).toEqual(first);
    expect((await events.next()).value).toEqual(second);
    await events.return();
    expect(stream.cancelled.length).toBe(1);
  });

  it("takes a silent stream for dropped after idleSeconds, and one that ends for over: both reopen after the last event", async () => {
    const silent = scriptedBody();
    const ending = scriptedBody();
    const last = scriptedBody();
    const scripted = scriptedClient([() => eventStream(silent.body), () => eventStream(ending.body), () => eventStream(last.body)]);
    const events = scripted.events({ since: "evt_0", idleSeconds: 0.05 });
    silent.send(frame(timeline(1)));
    expect((await events.next()).value).toEqual(timeline(1));
    // Nothing more, not even a heartbeat: after 50 ms the client gives up on this stream.
    ending.send(frame(timeline(2)) + frame(timeline(3)).slice(0, 30));
    ending.close();
    expect((await events.next()).value).toEqual(timeline(2));
    last.send(frame(timeline(3)));
    expect((await events.next()).value).toEqual(timeline(3));
    await events.return();
    expect(scripted.requests.map(sinceOf)).toEqual(["evt_0", "evt_1", "evt_2"]);
    expect(silent.cancelled.length).toBe(1);
    expect(last.cancelled.length).toBe(1);
  });

  it("stops when the signal aborts, with its reason, and cancels the body", async () => {
    const stream = scriptedBody();
    const scripted = scriptedClient([() => eventStream(stream.body)]);
    const controller = new AbortController();
    const seen: TimelineEvent[] = [];
    const iteration = (async () => {
      for await (const event of scripted.events({ signal: controller.signal })) {
        seen.push(event);
        controller.abort(new Error("enough"));
      }
    })();
    stream.send(frame(timeline(1)) + frame(timeline(2)));
    await expect(iteration).rejects.toThrow("enough");
    expect(seen).toEqual([timeline(1)]);
    expect(stream.cancelled).toEqual([expect.objectContaining({ message: "enough" })]);
    expect(scripted.requests.length).toBe(1);
  });

  it("stops on an abort while waiting for bytes, and throws when an event's data is not JSON", async () => {
    const waiting = scriptedBody();
    const controller = new AbortController();
    const pending = scriptedClient([() => eventStream(waiting.body)])
      .events({ signal: controller.signal })
      .next();
    await vi.waitFor(() => expect(waiting.body.locked).toBe(true));
    controller.abort(new Error("stopped"));
    await expect(pending).rejects.toThrow("stopped");
    expect(waiting.cancelled).toEqual([expect.objectContaining({ message: "stopped" })]);

    const broken = scriptedBody();
    broken.send("id: evt_9\ndata: not json\n\n");
    await expect(
      scriptedClient([() => eventStream(broken.body)])
        .events()
        .next(),
    ).rejects.toThrow("GET /api/v1/sessions/sess_1/events: the data of event evt_9 is not JSON");
    expect(broken.cancelled.length).toBe(1);
  });
});
