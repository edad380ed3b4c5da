// Records the console tests show: a workflow with a recorded step and an agent run with usage.
import type { Engine } from "@agent-sessions/core";

/** A workflow with one recorded `create_wait` step of `durationMs`, after any `before` steps. */
export async function workflowWithSteps(engine: Engine, orgId: string, durationMs: number, before: { action: string; durationMs: number }[] = []) {
  const workflow = await engine.workflows.create(orgId, { name: "signup-otp" });
  for (const step of before) await engine.workflows.recordStep(orgId, workflow.id, step);
  await engine.workflows.recordStep(orgId, workflow.id, { action: "create_wait", input: { type: "otp" }, output: { code: "481516" }, durationMs });
  return workflow;
}

/** An agent session of a new agent: one user turn and one assistant turn reporting `usage`. */
export async function agentRun(engine: Engine, orgId: string, usage: Record<string, number>, extra: { title?: string; tags?: string[] } = {}) {
  const agent = await engine.agents.create(orgId, { name: "triage" });
  const run = await engine.agentSessions.create(orgId, { agentId: agent.id, ...extra });
  await engine.agentSessions.postMessage(orgId, run.id, { role: "user", content: "Why does my export fail?" });
  await engine.agentSessions.postMessage(orgId, run.id, { role: "assistant", content: "The file is over 2 GB.", usage });
  return run;
}
