import { afterEach, describe, expect, it, vi } from "vitest";
import { answerAtTurnEnd } from "../src/turn-end.js";

const request = (name: string) => new Request(`http://localhost/${name}`);
/** Lets every pending promise reaction run, without letting the loop reach its check phase. */
async function drainMicrotasks() {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}
/** Queued after the wrapper's immediate, so it runs after it (and the reactions it released). */
const nextImmediate = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("answerAtTurnEnd", () => {
  afterEach(() => vi.restoreAllMocks());

  it("holds ready responses until the turn's check phase, then hands them all back in order", async () => {
    const handle = answerAtTurnEnd(async (incoming) => new Response(new URL(incoming.url).pathname));
    const answered: string[] = [];
    const pending = ["a", "b", "c"].map((name) => handle(request(name)).then(async (response) => answered.push(await response.text())));

    await drainMicrotasks();
    expect(answered).toEqual([]);
    await nextImmediate();
    await Promise.all(pending);
    expect(answered).toEqual(["/a", "/b", "/c"]);
  });

  it("schedules one immediate for a turn's responses, and a new one for a later turn's", async () => {
    const immediates = vi.spyOn(globalThis, "setImmediate");
    const handle = answerAtTurnEnd(async () => new Response("ok"));

    const first = Array.from({ length: 100 }, (_, i) => handle(request(String(i))));
    await drainMicrotasks();
    const scheduled = immediates.mock.calls.length;
    expect(scheduled).toBe(1);
    await Promise.all(first);

    // A response ready after the turn ended waits for the next turn, not for nothing.
    let late = false;
    const next = handle(request("late")).then(() => {
      late = true;
    });
    await drainMicrotasks();
    expect(late).toBe(false);
    expect(immediates.mock.calls.length).toBe(scheduled + 1);
    await next;
    expect(late).toBe(true);
  });

  it("passes a handler's rejection on at once", async () => {
    const handle = answerAtTurnEnd(async () => {
      throw new Error("boom");
    });
    let settled: unknown = null;
    handle(request("x")).catch((error: unknown) => {
      settled = error;
    });
    await drainMicrotasks();
    expect(settled).toBeInstanceOf(Error);
    expect((settled as Error).message).toBe("boom");
  });
});
