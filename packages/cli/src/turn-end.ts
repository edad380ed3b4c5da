import type { AgentSessionsRouter } from "@agent-sessions/router";

/** A fetch handler, as the router offers and srvx takes it. */
type FetchHandler = AgentSessionsRouter["fetch"];

/**
 * Wraps `handler` so that each response is handed back when the event loop's current I/O phase
 * ends (its check phase, `setImmediate`) instead of as soon as it is ready: the responses to
 * every request read in one turn of the loop are then written back to back.
 *
 * Written as each is ready, a response goes out between reading one connection's request and
 * handling the next, and a write that finds the client's process asleep pays to wake it; on a
 * virtual machine that wake-up is an interrupt to another virtual CPU, and the client sleeps
 * again before the next answer. Under load from 64 connections, the benchmark's load generator
 * went to sleep 0.88 to 0.91 times a request with answers written one by one and 0.02 to 0.04
 * times with them written at the turn's end, and creates through `serve` went from 0.47–0.56 of a
 * bare node:http handler to 0.61–0.78 at one request in flight a connection, and from 0.40–0.51 to
 * 0.60–0.66 at ten (bench/http.mjs, runs taken in turn; see the README's benchmark section).
 *
 * A response waits at most for the rest of its turn's requests to be handled, never for a timer
 * or for I/O. The cost is one promise and one immediate a turn, shared by its responses; a handler
 * that rejects rejects at once.
 */
export function answerAtTurnEnd(handler: FetchHandler): FetchHandler {
  let turnEnd: Promise<void> | null = null;
  const endTurn = (resolve: () => void) => {
    setImmediate(() => {
      // A response ready after this point belongs to the next turn.
      turnEnd = null;
      resolve();
    });
  };
  return async (request) => {
    const response = await handler(request);
    turnEnd ??= new Promise(endTurn);
    await turnEnd;
    return response;
  };
}
