// The load of the crash tests: 32 lanes, each running form-session and workflow scenarios one call
// after the other against one `serve` instance, keeping what every acknowledged write left, while
// the instance is killed and started again underneath them.
import { type Answer, acknowledged, call, type ServeInstance, signal } from "./crash-harness.js";

/** The slug of the form the load creates sessions of. */
export const CRASH_FORM = "crash";

/** A form session as its acknowledged writes left it. */
export interface FormModel {
  readonly id: string;
  readonly tag: string;
  readonly values: Readonly<Record<string, string>>;
  status: "created" | "submitted";
  /** A submit was sent and no answer came: it may or may not have been written. */
  pendingSubmit: boolean;
}

/** A workflow session as its acknowledged writes left it. */
export interface WorkflowModel {
  readonly id: string;
  readonly tag: string;
  inboxId: string | null;
  readonly messages: string[];
  completed: boolean;
  /** The write sent without an answer, which may or may not have been written. */
  pending: "inbox" | "message" | "complete" | null;
}

/** The lanes' shared state: what was acknowledged, and whether the instance is up. */
export class CrashLoad {
  stopped = false;
  /** Resolves once the instance is up again after a kill. */
  up: Promise<void> = Promise.resolve();
  readonly forms: FormModel[] = [];
  readonly workflows: WorkflowModel[] = [];
  /** Answers that were neither a 2xx nor missing: each is a failure of the test. */
  readonly refused: string[] = [];
  acknowledgedWrites = 0;
  /** Calls that got no answer (the instance died under them). */
  unanswered = 0;
  kills = 0;

  constructor(readonly instance: ServeInstance) {}

  /** Sends a write; its answer when acknowledged, else `null` (and a refusal is kept). */
  async write(method: string, path: string, body?: unknown, form?: Record<string, string>): Promise<Answer | null> {
    const answer = await call(this.instance.url, method, path, body, form);
    if (acknowledged(answer)) {
      this.acknowledgedWrites++;
      return answer;
    }
    if (answer.status === null) this.unanswered++;
    else this.refused.push(`${method} ${path}: ${answer.status} ${String(JSON.stringify(answer.body)).slice(0, 200)}`);
    return null;
  }

  /** Kills the instance with SIGKILL and starts it again on the same store and port; lanes wait meanwhile. */
  async crash(): Promise<void> {
    const up = signal();
    this.up = up.promise;
    try {
      await this.instance.kill();
      this.kills++;
      await this.instance.restart();
    } finally {
      up.resolve();
    }
  }

  /** Runs `lanes` lanes until `stopped`; resolves once every lane has finished its current call. */
  async run(lanes: number): Promise<void> {
    await Promise.all(Array.from({ length: lanes }, (_, lane) => this.lane(lane)));
  }

  private async lane(lane: number): Promise<void> {
    for (let round = 0; !this.stopped; round++) {
      const tag = `${lane}-${round}`;
      const whole = (lane + round) % 2 === 0 ? await this.formScenario(tag) : await this.workflowScenario(tag);
      if (!whole) {
        await this.up;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }

  /** Creates a form session and submits it on its hosted page; `false` when a call went unacknowledged. */
  private async formScenario(tag: string): Promise<boolean> {
    const created = await this.write("POST", `/v1/forms/${CRASH_FORM}/sessions`, { expires_in: 3600, metadata: { tag } });
    if (!created) return false;
    const model: FormModel = { id: created.body.id, tag, values: { email: `${tag}@example.com` }, status: "created", pendingSubmit: false };
    this.forms.push(model);
    if (this.stopped) return true;
    model.pendingSubmit = true;
    if (!(await this.write("POST", `/f/${model.id}`, undefined, model.values))) return false;
    model.pendingSubmit = false;
    model.status = "submitted";
    return true;
  }

  /** Creates a workflow session, an inbox, two messages, and completes it; `false` when a call went unacknowledged. */
  private async workflowScenario(tag: string): Promise<boolean> {
    const created = await this.write("POST", "/api/v1/sessions", { name: tag });
    if (!created) return false;
    const model: WorkflowModel = { id: created.body.id, tag, inboxId: null, messages: [], completed: false, pending: null };
    this.workflows.push(model);
    if (this.stopped) return true;
    model.pending = "inbox";
    const inbox = await this.write("POST", `/api/v1/sessions/${model.id}/inboxes`, { ttlSeconds: 600 });
    if (!inbox) return false;
    model.inboxId = inbox.body.id;
    for (let n = 0; n < 2; n++) {
      if (this.stopped) return this.settle(model);
      model.pending = "message";
      const message = await this.write("POST", `/api/v1/inboxes/${model.inboxId}/messages`, {
        from: "a@example.com",
        subject: tag,
        body: `code ${n}`,
      });
      if (!message) return false;
      model.messages.push(message.body.id);
    }
    if (this.stopped) return this.settle(model);
    model.pending = "complete";
    if (!(await this.write("POST", `/api/v1/sessions/${model.id}/complete`))) return false;
    model.completed = true;
    return this.settle(model);
  }

  private settle(model: WorkflowModel): true {
    model.pending = null;
    return true;
  }
}
