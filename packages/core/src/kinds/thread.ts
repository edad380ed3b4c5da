import { THREAD_STATUSES, type Thread } from "../schemas/thread.js";
import { Thread as ThreadState } from "../schemas/thread.js";
import { LIMITS } from "../schemas/common.js";
import { defineKind } from "./kind.js";

/** Threads (seed 002): context variables and the pending actions a person decides, until closed. */
export const threadKind = defineKind({
  name: "thread",
  prefix: "thread",
  noun: "Session",
  statuses: THREAD_STATUSES,
  terminal: ["closed"],
  state: ThreadState,
  limits: { contextVariables: LIMITS.contextVariables, contextVariablesBytes: LIMITS.contextVariablesBytes },
  parts: (state: Thread) => state.actions.length,
});
