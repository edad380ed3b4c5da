import { type FieldType, type FormField, type FormSession, iso } from "@agent-sessions/core";
import type { ReviewPageView } from "./review-view.js";

/** One field a person sees on a hosted form. Hidden fields and their values never reach a view. */
export interface HostedField {
  readonly name: string;
  /** The field's label, or its name made readable (`full_name` → "Full name"). */
  readonly label: string;
  readonly type: Exclude<FieldType, "hidden">;
  readonly required: boolean;
  /** A select's options; empty for every other type. */
  readonly options: readonly string[];
}

/** The session a view is of: its id, its form's id and the form's name (the page's title). */
interface SessionView {
  readonly sessionId: string;
  readonly formId: string;
  /** The form's name: the page's heading and, around it, its title. */
  readonly formName: string;
}

/**
 * Everything a hosted page shows, by `page`, with the HTTP `status` it is answered with: the form
 * page (`/f/:id`) and the review page of an action (`/r/:token`, the `review…` pages). Each page
 * posts back to its own URL, `application/x-www-form-urlencoded`; it needs no API key: its
 * unguessable URL is the capability.
 */
export type HostedView =
  /** The form: on load (200), sent back with the problems of a post (400), or after a post lost to a concurrent write (409). */
  | (SessionView & {
      readonly page: "form";
      readonly status: 200 | 400 | 409;
      readonly fields: readonly HostedField[];
      /** What each input shows: text, or ticked or not for a checkbox; the prefill, or what the person posted. */
      readonly values: Readonly<Record<string, string | boolean>>;
      /** Problems by field name, each a sentence for the person. */
      readonly problems: Readonly<Record<string, string>>;
      /** Problems that belong to no visible field, for the top of the page. */
      readonly general: readonly string[];
      /** The form takes partial submissions: offer a button that posts `partialSubmit`. */
      readonly allowPartial: boolean;
      /** The name and value a "Submit what I have" button posts to ask for a partial submission. */
      readonly partialSubmit: { readonly name: string; readonly value: string };
      /** When the link stops taking answers, ISO 8601. */
      readonly expiresAt: string;
    })
  /** The thank-you page (200), with the visible required fields a partial submission left out. */
  | (SessionView & { readonly page: "submitted"; readonly status: 200; readonly leftOut: readonly HostedField[] })
  /** The session expired (410): its URL takes no more answers. */
  | (SessionView & { readonly page: "expired"; readonly status: 410; readonly expiresAt: string })
  /** A post of other values to a session already submitted (409). */
  | (SessionView & { readonly page: "already_submitted"; readonly status: 409 })
  /** A post that is not `application/x-www-form-urlencoded` (415). */
  | (SessionView & { readonly page: "unsupported_media_type"; readonly status: 415; readonly accepted: string })
  /** No form session has this id (404). */
  | { readonly page: "not_found"; readonly status: 404 }
  /** An error the router answers (a body too large, too many requests, a failure), with a message fit to show. */
  | { readonly page: "error"; readonly status: number; readonly message: string }
  | ReviewPageView;

/**
 * Turns a view into the page: a `Response`, or the HTML text of a whole document, which the router
 * sends with the view's status, `text/html` and headers that keep it out of frames and caches.
 */
export type HostedRender = (view: HostedView) => Response | string | Promise<Response | string>;

/** A name made readable: `full_name` → "Full name". */
export function readableName(name: string): string {
  const words = name.replace(/_+/g, " ").trim();
  return words === "" ? name : words.charAt(0).toUpperCase() + words.slice(1);
}

/** A field's label: its own, or its name made readable (`full_name` → "Full name"). */
export function fieldLabel(field: FormField): string {
  if (field.label !== undefined && field.label.trim() !== "") return field.label;
  return readableName(field.name);
}

/** The fields a person sees: every field but the hidden ones. */
export function visibleFields(session: FormSession): HostedField[] {
  const fields: HostedField[] = [];
  for (const field of session.fields) {
    if (field.type === "hidden") continue;
    fields.push({ name: field.name, label: fieldLabel(field), type: field.type, required: field.required === true, options: field.options ?? [] });
  }
  return fields;
}

/** The part of every view that names the session. */
export function sessionView(session: FormSession): SessionView {
  // A session whose form could not be read (none is ever deleted) is still shown, under a plain title.
  return { sessionId: session.id, formId: session.formId, formName: session.formName ?? "Form" };
}

/** The expiry as views carry it. */
export const expiryOf = (session: FormSession): string => iso(session.expiresAt);
