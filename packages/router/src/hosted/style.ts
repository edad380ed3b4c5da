/**
 * The hosted page's only stylesheet, inlined and allowed by its hash in the CSP. System fonts,
 * one column, 16px inputs (so phones do not zoom on focus), light and dark schemes.
 */
export const HOSTED_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f3f4f6; --card: #ffffff; --text: #111827; --muted: #4b5563; --line: #d1d5db;
  --accent: #2f4fd8; --accent-text: #ffffff; --accent-soft: #e8ecfd;
  --error: #b42318; --error-soft: #fef3f2; --ok: #067647; --ok-soft: #ecfdf3; --focus: #8aa2ff;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1115; --card: #181b22; --text: #e5e7eb; --muted: #a1a7b3; --line: #343946;
    --accent: #7b93ff; --accent-text: #0f1115; --accent-soft: #20263a;
    --error: #ff8a80; --error-soft: #2c1716; --ok: #6ee7a8; --ok-soft: #13261c; --focus: #7b93ff;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; min-height: 100vh; background: var(--bg); color: var(--text);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  padding: 2.5rem 1rem;
}
.card {
  max-width: 38rem; margin: 0 auto; background: var(--card); border: 1px solid var(--line);
  border-radius: 14px; padding: 2rem 2rem 1.75rem; box-shadow: 0 1px 2px rgb(0 0 0 / 4%), 0 8px 24px rgb(0 0 0 / 6%);
}
h1 { font-size: 1.5rem; line-height: 1.25; margin: 0 0 .35rem; letter-spacing: -.01em; overflow-wrap: anywhere; }
p { margin: 0 0 1rem; }
.card > :last-child { margin-bottom: 0; }
.lead { color: var(--muted); margin-bottom: 1.5rem; }
.field { margin: 0 0 1.25rem; }
.field > label, .field > .label { display: block; font-weight: 600; margin-bottom: .35rem; overflow-wrap: anywhere; }
.req { color: var(--error); margin-left: .15rem; }
.lead .req { margin: 0; }
input[type=text], input[type=email], input[type=number], input[type=date], input[type=url], input[type=tel], select, textarea {
  display: block; width: 100%; font: inherit; color: inherit; background: var(--card);
  border: 1px solid var(--line); border-radius: 8px; padding: .6rem .75rem; min-height: 2.75rem;
}
textarea { min-height: 7rem; resize: vertical; }
select { appearance: auto; }
input:focus, select:focus, textarea:focus, button:focus-visible {
  outline: 3px solid var(--focus); outline-offset: 1px; border-color: var(--accent);
}
.field > label.check { display: flex; gap: .6rem; align-items: flex-start; font-weight: 400; cursor: pointer; overflow-wrap: anywhere; }
.check input { width: 1.25rem; height: 1.25rem; margin: .15rem 0 0; flex: none; accent-color: var(--accent); }
.invalid input, .invalid select, .invalid textarea { border-color: var(--error); }
.error { color: var(--error); font-size: .925rem; margin: .35rem 0 0; font-weight: 500; }
.summary {
  border: 1px solid var(--error); background: var(--error-soft); border-radius: 10px;
  padding: .85rem 1rem; margin: 0 0 1.5rem;
}
.summary h2 { font-size: 1rem; margin: 0 0 .35rem; color: var(--error); }
.summary ul { margin: 0; padding-left: 1.2rem; }
.summary a { color: var(--error); }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; margin-top: 1.75rem; align-items: center; }
button {
  font: inherit; font-weight: 600; border-radius: 8px; padding: .65rem 1.35rem; min-height: 2.75rem;
  cursor: pointer; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-text);
}
button:hover { filter: brightness(1.08); }
button.secondary { background: transparent; color: var(--accent); }
button.secondary:hover { background: var(--accent-soft); filter: none; }
.note { color: var(--muted); font-size: .875rem; margin: 1.5rem 0 0; }
.badge {
  display: inline-block; font-size: .8rem; font-weight: 600; border-radius: 999px; padding: .15rem .65rem; margin-bottom: .75rem;
}
.badge.ok { color: var(--ok); background: var(--ok-soft); }
.badge.off { color: var(--muted); background: var(--bg); border: 1px solid var(--line); }
.badge.wait { color: var(--accent); background: var(--accent-soft); }
h2 { font-size: 1.05rem; line-height: 1.3; margin: 1.75rem 0 .6rem; }
.muted { color: var(--muted); font-weight: 400; }
.hint { color: var(--muted); font-size: .9rem; margin: -.15rem 0 .45rem; }
.kv { display: grid; grid-template-columns: minmax(5rem, max-content) 1fr; gap: .45rem 1rem; margin: 0 0 1rem; }
.kv dt { font-weight: 600; color: var(--muted); overflow-wrap: anywhere; }
.kv dd { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
pre {
  font: .9rem/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--bg);
  border: 1px solid var(--line); border-radius: 8px; padding: .7rem .85rem; margin: 0 0 1rem; white-space: pre-wrap; overflow-wrap: anywhere;
}
.kv pre { margin: 0; }
details { margin: 0 0 1rem; }
details > summary { cursor: pointer; color: var(--muted); margin-bottom: .5rem; }
blockquote.reason { margin: 0 0 1rem; padding: .5rem .9rem; border-left: 3px solid var(--line); color: var(--text); white-space: pre-wrap; overflow-wrap: anywhere; }
.approvals { margin: -.5rem 0 1rem; padding-left: 1.2rem; color: var(--muted); }
@media (max-width: 480px) {
  body { padding: 0; background: var(--card); }
  .card { border: 0; border-radius: 0; box-shadow: none; padding: 1.5rem 1.15rem 2rem; }
  .actions button { width: 100%; }
  .kv { grid-template-columns: 1fr; gap: .1rem; }
  .kv dd { margin-bottom: .5rem; }
}
`;
