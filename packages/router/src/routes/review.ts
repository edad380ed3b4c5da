import { type Engine, InvalidInputError, threadWire } from "@agent-sessions/core";
import { Type } from "@sinclair/typebox";
import { renderHostedPage } from "../hosted/pages.js";
import { isInvalidInput, problemSentence } from "../hosted/post.js";
import {
  ARG_PREFIX,
  argsFingerprint,
  argValues,
  DECISION,
  editedArgs,
  postedValues,
  REASON,
  type ReviewLink,
  type ReviewPost,
  readReviewPost,
  refusedView,
  reviewFields,
  reviewFormView,
  reviewStatusView,
  SEEN,
} from "../hosted/review-form.js";
import { FORM_ENCODED, hasCode, htmlPage, isFormEncoded, mediaType, send } from "../hosted/send.js";
import type { HostedRender, HostedView } from "../hosted/view.js";
import { describeError, type ErrorAnswer, errorResponse, json, parseJson } from "../http.js";
import type { RouteDefinition } from "../route.js";

const NOT_FOUND: HostedView = { page: "review_not_found", status: 404 };
const ARGS_CHANGED = "The arguments changed while this page was open (another approver edited them). Check them, then decide again.";
const BUSY = "The page was busy for a moment and your answer was not recorded. Please try again.";

/** The review link a token names, or `null` when it names none (malformed, unknown, or a wrong secret). */
async function open(engine: Engine, token: string): Promise<ReviewLink | null> {
  try {
    return await engine.threads.reviewOpen(token);
  } catch (error) {
    if (hasCode(error, "not_found")) return null;
    throw error;
  }
}

/** The form sent back with the person's values, and each problem beside its input (or at the top). */
async function sentBack(link: ReviewLink, post: ReviewPost, problems: Record<string, string>, general: string[], status: 400 | 409 = 400) {
  const fields = reviewFields(link.action.argsSchema, link.action.args);
  return reviewFormView(link, { values: postedValues(fields, post), problems, general, status });
}

/** The problem of an engine refusal of the post's input, beside the input it names when the page has one. */
async function refusedInput(link: ReviewLink, post: ReviewPost, error: Error & { field?: string }): Promise<HostedView> {
  const fields = reviewFields(link.action.argsSchema, link.action.args) ?? [];
  const input = error.field === REASON || fields.some((field) => field.input === error.field) ? error.field! : null;
  const sentence = problemSentence(error);
  return input ? sentBack(link, post, { [input]: sentence }, []) : sentBack(link, post, {}, [sentence]);
}

/**
 * Decides through the engine: an approval with the arguments as the person saw or edited them, or
 * a denial with its reason. What the engine refuses is shown on the page.
 */
async function decide(engine: Engine, token: string, post: ReviewPost): Promise<HostedView> {
  const link = await open(engine, token);
  if (!link) return NOT_FOUND;
  if (!link.canDecide) return refusedView(link);
  if (post.decision === null) return sentBack(link, post, {}, ["Choose Approve or Deny."]);
  let decision: { approve: boolean; args?: unknown; reason?: string };
  if (post.decision === DECISION.deny) {
    const reason = post.reason.trim();
    decision = { approve: false, ...(reason !== "" ? { reason } : {}) };
  } else {
    const fields = reviewFields(link.action.argsSchema, link.action.args);
    // What runs must be what the person saw: arguments another approver changed meanwhile are shown again.
    if (post.seen !== null && post.seen !== (await argsFingerprint(link.action.args ?? null))) {
      const values = { ...argValues(fields, link.action.args), [REASON]: post.reason };
      return reviewFormView(link, { values, problems: {}, general: [ARGS_CHANGED], status: 409 });
    }
    // The arguments go with every approval, edited or as shown: should another approver change
    // them between this read and the write, the engine counts this approval for these arguments
    // only, so what runs is still what every counted approver saw.
    let args = link.action.args;
    if (fields) {
      const edited = editedArgs(fields, link.action.argsSchema!, link.action.args as Record<string, unknown>, post);
      if ("problems" in edited) return sentBack(link, post, edited.problems, []);
      args = edited.args;
    }
    decision = { approve: true, ...(args !== undefined ? { args } : {}) };
  }
  try {
    return await reviewStatusView(await engine.threads.reviewDecide(token, decision));
  } catch (error) {
    if (hasCode(error, "not_found")) return NOT_FOUND;
    if (isInvalidInput(error)) return refusedInput(link, post, error);
    const now = await open(engine, token);
    if (!now) return NOT_FOUND;
    // A write that kept losing to others: try again, unless one of them decided what this post would have.
    if (hasCode(error, "version_conflict") && now.canDecide) return sentBack(now, post, {}, [BUSY], 409);
    if (hasCode(error, "illegal_transition", "conflict", "expired", "version_conflict")) return refusedView(now);
    throw error;
  }
}

/**
 * A decision a program posts on a review link as JSON: `{"decision": "approve" | "deny"}` (or
 * `{"approve": bool}`, or `{"confirmed": bool}` as the API takes it), with `args` as edited and a
 * denial's `reason`. Answers the action as the API shows it, or the API's error body: 400, 404,
 * 409 (already decided, or a link that only shows the action), 410 (past the deadline).
 */
async function decideJson(engine: Engine, token: string, text: string, report: (error: unknown) => void): Promise<Response> {
  try {
    const body = parseJson(text);
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new InvalidInputError("body", "must be a JSON object");
    const { decision, approve, confirmed, args, reason, ...rest } = body as Record<string, unknown>;
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) throw new InvalidInputError(unknown, "is not a field of a decision (decision, args, reason)");
    const chosen =
      decision === DECISION.approve || approve === true || confirmed === true
        ? true
        : decision === DECISION.deny || approve === false || confirmed === false
          ? false
          : null;
    if (chosen === null) throw new InvalidInputError("decision", `must be "${DECISION.approve}" or "${DECISION.deny}"`);
    const link = await engine.threads.reviewDecide(token, {
      approve: chosen,
      ...(args !== undefined ? { args } : {}),
      ...(reason !== undefined ? { reason: reason as string } : {}),
    });
    return json(threadWire.toAction(link.threadId, link.action));
  } catch (error) {
    const { status, message, headers } = describeError(error, "Failed to record the decision", report);
    return errorResponse(status, message, headers);
  }
}

/**
 * The review page of a pending action (`review_url`, `review_urls`): public, its token being the
 * capability. A GET shows the action and decides nothing, so link scanners and previews are
 * harmless; only the page's POST decides. Each answer is a `HostedView` drawn by `render`.
 */
export function reviewRoutes(render: HostedRender = renderHostedPage): RouteDefinition[] {
  // A JSON decision gets the API's error body for what the router refused before the route ran
  // (a 429, a body over the limit), as it does for the route's own refusals; a person gets the page.
  const errorPage = ({ status, message, headers }: ErrorAnswer, request: Request) =>
    mediaType(request) === "application/json" ? errorResponse(status, message, headers) : send(render, { page: "error", status, message }, headers);
  return [
    {
      method: "GET",
      path: "/r/:token",
      summary: "The review page of a pending action: the tool, its preview and arguments, and Approve / Deny; loading it decides nothing",
      tag: "Review page",
      public: true,
      responses: {
        200: htmlPage("The action to decide, the action waiting for its approvers, or its outcome once decided"),
        404: htmlPage("No review link has this token"),
        410: htmlPage("The action's deadline passed before anyone decided"),
      },
      failure: "Failed to load the review page",
      errorPage,
      async handle({ engine, params }) {
        const link = await open(engine, params.token!);
        return send(render, link ? await reviewStatusView(link) : NOT_FOUND);
      },
    },
    {
      method: "POST",
      path: "/r/:token",
      summary: "Decide a pending action on its review page: approve (with the arguments as edited) or deny (with a reason)",
      tag: "Review page",
      public: true,
      body: Type.Object(
        {
          [DECISION.name]: Type.Union([Type.Literal(DECISION.approve), Type.Literal(DECISION.deny)]),
          [REASON]: Type.Optional(Type.String({ description: "With a denial: why (at most 1000 characters); ignored with an approval" })),
          [SEEN]: Type.Optional(
            Type.String({ description: "The fingerprint of the arguments the page showed; an approval of arguments changed since is refused (409)" }),
          ),
        },
        {
          additionalProperties: Type.String(),
          description: `As the page's form posts it. \`${ARG_PREFIX}<name>\`: an argument as edited, where \`args_schema\` is a flat object (a checkbox's argument is false when not posted).`,
        },
      ),
      bodyContentType: FORM_ENCODED,
      responses: {
        200: htmlPage("The outcome: approved (or the approval counted, waiting for the other approvers), or denied"),
        400: htmlPage("The page again, with the person's values and each problem beside its input; nothing was decided"),
        404: htmlPage("No review link has this token"),
        409: htmlPage("Already decided, already approved by this approver, a link that only shows the action, or a concurrent change"),
        410: htmlPage("The action's deadline passed before anyone decided"),
        413: htmlPage("The body is over the size limit"),
        415: htmlPage(`The body is not ${FORM_ENCODED} (or application/json: then the answer is the action, or the API's error body)`),
      },
      failure: "Failed to record the decision",
      errorPage,
      async handle({ engine, params, request, body, report }) {
        const token = params.token!;
        if (mediaType(request) === "application/json") return decideJson(engine, token, typeof body === "string" ? body : "", report);
        if (!isFormEncoded(request)) {
          const link = await open(engine, token);
          if (!link) return send(render, NOT_FOUND);
          const view = await reviewStatusView(link);
          if (view.status === 410) return send(render, view);
          return send(render, { page: "error", status: 415, message: `this page can only be sent as ${FORM_ENCODED}` });
        }
        return send(render, await decide(engine, token, readReviewPost(typeof body === "string" ? body : "")));
      },
    },
  ];
}
