/**
 * `text/event-stream` read by the WHATWG rules (HTML § 9.2.6), with web APIs only: bytes decoded
 * as UTF-8 across chunk boundaries, lines ended by CRLF, LF or CR, `:` comments (heartbeats)
 * skipped, `data` joined over several lines, and an event cut off by the end of the stream dropped.
 */

/** One dispatched event: `id` is the last event id the stream set (it carries over), `event` defaults to `"message"`. */
export interface EventStreamMessage {
  readonly id: string;
  readonly event: string;
  readonly data: string;
}

/** A parser fed the body's chunks in order; each `push` returns the events those bytes completed. */
export function eventStreamParser() {
  // fatal: false turns invalid bytes into U+FFFD as the spec says; the default drops a leading BOM.
  const decoder = new TextDecoder("utf-8");
  let pending = ""; // the start of a line whose end has not arrived yet
  let afterCR = false; // the last chunk ended with CR: an LF opening the next one belongs to it
  let data: string[] = [];
  let event = "";
  let lastEventId = "";

  function line(text: string, out: EventStreamMessage[]): void {
    if (text === "") {
      if (data.length > 0) out.push({ id: lastEventId, event: event || "message", data: data.join("\n") });
      data = [];
      event = "";
      return;
    }
    if (text.startsWith(":")) return; // a comment: the server's heartbeat
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
    else if (field === "event") event = value;
    else if (field === "id" && !value.includes("\0")) lastEventId = value;
    // `retry` is ignored on purpose: the client reconnects on its own backoff. Other fields are ignored by the spec.
  }

  return {
    push(chunk: Uint8Array): EventStreamMessage[] {
      let text = decoder.decode(chunk, { stream: true });
      if (text === "") return []; // only the first bytes of a character
      if (afterCR && text.startsWith("\n")) text = text.slice(1);
      afterCR = text.endsWith("\r");
      const out: EventStreamMessage[] = [];
      const lines = (pending + text).split(/\r\n|\r|\n/);
      pending = lines.pop()!;
      for (const each of lines) line(each, out);
      return out;
    },
  };
}

/**
 * The events of a stream's body until it ends, breaks, or stays silent (not a byte, not a
 * heartbeat) for `idleMs`; then it returns, and the caller decides whether to reconnect. Aborting
 * `signal` throws its reason. Leaving, however it happens, cancels the body, which closes the connection.
 */
export async function* readEventStream(
  body: ReadableStream<Uint8Array>,
  { idleMs, signal }: { idleMs: number; signal?: AbortSignal | undefined },
): AsyncGenerator<EventStreamMessage, void, undefined> {
  const reader = body.getReader();
  const parser = eventStreamParser();
  const stop = (reason?: unknown) => reader.cancel(reason).catch(() => {});
  const onAbort = () => void stop(signal!.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      // The watchdog runs only while waiting on the server, never while the caller holds an event.
      const watchdog = setTimeout(stop, idleMs);
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch {
        chunk = { done: true, value: undefined }; // the connection broke: an ending like any other
      } finally {
        clearTimeout(watchdog);
      }
      if (signal?.aborted) throw signal.reason;
      if (chunk.done) return;
      for (const message of parser.push(chunk.value)) {
        if (signal?.aborted) throw signal.reason; // aborted while the caller held the previous event
        yield message;
      }
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    await stop();
  }
}
