import { agentSessionsResource, agentsResource } from "./resources/agents.js";
import { formSessionsResource, formsResource } from "./resources/forms.js";
import { inboxesResource, messagesResource, waitsResource } from "./resources/inboxes.js";
import { sessionsResource } from "./resources/sessions.js";
import { actionsResource, threadsResource } from "./resources/threads.js";
import { webhooksResource } from "./resources/webhooks.js";
import { type ClientOptions, createTransport } from "./transport.js";

/** The typed client: one property per resource family of the HTTP API. */
export interface AgentSessionsClient {
  /** Where the client sends its requests (`baseUrl` without a trailing slash). */
  readonly baseUrl: string;
  /** Form definitions (seed 000). */
  readonly forms: ReturnType<typeof formsResource>;
  /** Form sessions (seed 000): create from a form, read, extend. */
  readonly formSessions: ReturnType<typeof formSessionsResource>;
  /** Workflow sessions (seed 001), and the event feed of any session. */
  readonly sessions: ReturnType<typeof sessionsResource>;
  /** Inboxes of workflow sessions. */
  readonly inboxes: ReturnType<typeof inboxesResource>;
  /** Messages delivered to inboxes. */
  readonly messages: ReturnType<typeof messagesResource>;
  /** Waits for a message or a one-time code, and waiting for them to end. */
  readonly waits: ReturnType<typeof waitsResource>;
  /** Conversation threads (seed 002). */
  readonly threads: ReturnType<typeof threadsResource>;
  /** Pending actions of threads: propose (with review links), confirm (with edited arguments), deny (with a reason), cancel. */
  readonly actions: ReturnType<typeof actionsResource>;
  /** Agents (seed 003). */
  readonly agents: ReturnType<typeof agentsResource>;
  /** Agent sessions (seed 003). */
  readonly agentSessions: ReturnType<typeof agentSessionsResource>;
  /** Webhook endpoints and their delivery logs. */
  readonly webhooks: ReturnType<typeof webhooksResource>;
}

/**
 * Creates a client for a server that mounts the agent-sessions router. Runs wherever `fetch`
 * does (Node 20+, Bun, Deno, browsers, workers). Creates carry an `Idempotency-Key`, so their
 * retries after a dropped connection never create twice.
 *
 * @example
 * const client = createClient({ baseUrl: "http://127.0.0.1:3000", apiKey: process.env.AGENT_SESSIONS_API_KEY! });
 * const session = await client.sessions.create({ name: "user-signup-flow", metadata: { environment: "staging" } });
 */
export function createClient(options: ClientOptions): AgentSessionsClient {
  const transport = createTransport(options);
  return {
    baseUrl: transport.baseUrl,
    forms: formsResource(transport),
    formSessions: formSessionsResource(transport),
    sessions: sessionsResource(transport),
    inboxes: inboxesResource(transport),
    messages: messagesResource(transport),
    waits: waitsResource(transport),
    threads: threadsResource(transport),
    actions: actionsResource(transport),
    agents: agentsResource(transport),
    agentSessions: agentSessionsResource(transport),
    webhooks: webhooksResource(transport),
  };
}
