import type { ActionStatus, CancelReason, DecidedVia } from "@agent-sessions/core";

/** An argument a person can edit on a review page: one property of a flat `args_schema`. */
export interface ReviewField {
  /** The argument's name: its key in `args`. */
  readonly name: string;
  /** The name its input posts: `args.<name>`. */
  readonly input: string;
  /** The property's `title`, or its name made readable (`amount_eur` → "Amount eur"). */
  readonly label: string;
  /** The property's `description`, or `null`. */
  readonly description: string | null;
  /**
   * How it is edited: one line of text (`textarea` when the value has line breaks), a number, a
   * whole number, a checkbox for a boolean, or a choice of the schema's `enum`.
   */
  readonly type: "text" | "textarea" | "number" | "integer" | "checkbox" | "select";
  /** Listed in the schema's `required`. */
  readonly required: boolean;
  /** A select's options: the enum's values as text. Empty for every other type. */
  readonly options: readonly string[];
}

/** One approval of an action that approvers decide. */
export interface ReviewApproval {
  readonly approver: string;
  /** When, ISO 8601. */
  readonly at: string;
}

/** The action a review link is about, as every review page may show it. */
export interface ReviewedAction {
  readonly threadId: string;
  readonly actionId: string;
  readonly tool: string;
  /** What the agent says the action does, as it proposed it. */
  readonly preview: Readonly<Record<string, unknown>>;
  /** The arguments that run (or ran): as proposed, or as a person edited them; `null` when it has none. */
  readonly args: unknown;
  /** A person changed the arguments: `originalArgs` holds them as proposed. */
  readonly argsChanged: boolean;
  readonly originalArgs: unknown;
  /** The action's status (`pending`, `processing`, `succeeded`, `failed`, `cancelled`). */
  readonly actionStatus: ActionStatus;
  /** Its deadline, ISO 8601. */
  readonly expiresAt: string;
  /** What the deadline does if nobody decided: cancel the action, or deny it. */
  readonly onExpire: "cancel" | "deny";
  /** The approver this link belongs to; `null` for the action's own link. */
  readonly approver: string | null;
  /** Who decides, each on a link of their own; empty when the action's own link decides. */
  readonly approvers: readonly string[];
  readonly approvalsRequired: number;
  /** The approvals so far (of the arguments as they now are). */
  readonly approvals: readonly ReviewApproval[];
  /** When it was decided, ISO 8601, or `null` while pending. */
  readonly decidedAt: string | null;
  /** Who decided: an approver, `link` for the action's own link, `<org>/<key label>` over the API, or `expiry`. */
  readonly decidedBy: string | null;
  readonly decidedVia: DecidedVia | null;
  /** The reason given with a "no", or why the deadline denied it. */
  readonly reason: string | null;
  /** Why a cancelled action was cancelled (`person`, `expired`, `denied`, `thread_closed`). */
  readonly cancelReason: CancelReason | null;
}

/** The names and values the review form posts, for a page that draws its own form. */
export interface ReviewFormNames {
  /** The two submit buttons: `name` with `approve` or `deny` as value. */
  readonly decision: { readonly name: string; readonly approve: string; readonly deny: string };
  /** The optional reason, sent with a denial. */
  readonly reason: { readonly name: string; readonly maxLength: number };
  /**
   * A hidden input naming the arguments the page showed: an approval of arguments that changed
   * since (another approver edited them) is refused with 409 and the page shows the new ones.
   */
  readonly seen: { readonly name: string; readonly value: string };
}

/**
 * The pages of a review link (`/r/:token`), by `page`, each with its HTTP `status`. Loading a
 * page never decides anything; only its post does.
 */
export type ReviewPageView =
  /** The decision form: on load (200), sent back with the problems of a post (400), or after a post lost to a concurrent change (409). */
  | (ReviewedAction & {
      readonly page: "review";
      readonly status: 200 | 400 | 409;
      /**
       * The editable arguments, or `null` when they are shown read-only (their schema is not a flat
       * object of strings, numbers, booleans and enums): an approval then runs them as they are.
       */
      readonly fields: readonly ReviewField[] | null;
      /** What each input shows, by the name it posts (`args.<name>`, `reason`): text, or ticked or not. */
      readonly values: Readonly<Record<string, string | boolean>>;
      /** Problems by the name of the input they are about (`args.amount`, `reason`), each a sentence. */
      readonly problems: Readonly<Record<string, string>>;
      /** Problems that belong to no input, for the top of the page. */
      readonly general: readonly string[];
      readonly form: ReviewFormNames;
    })
  /**
   * Still pending, but this link cannot decide it (200): the action's own link when approvers
   * decide it, or the link of an approver who already approved.
   */
  | (ReviewedAction & { readonly page: "review_pending"; readonly status: 200 })
  /** The outcome of a decided action (200): approved (running, ran or failed), denied, or cancelled with its conversation. */
  | (ReviewedAction & { readonly page: "review_decided"; readonly status: 200 })
  /** A post this link cannot make (409): the action was decided already, this approver approved already, or the link only shows it. */
  | (ReviewedAction & { readonly page: "review_refused"; readonly status: 409; readonly message: string })
  /** Nobody decided before the deadline (410): the action was cancelled, or denied, by it. */
  | (ReviewedAction & { readonly page: "review_expired"; readonly status: 410 })
  /** No action has a review link with this token (404). */
  | { readonly page: "review_not_found"; readonly status: 404 };
