/**
 * The console's only stylesheet, inlined and allowed by its hash in the CSP. System fonts, a
 * header with the navigation, tables that scroll sideways on a narrow screen (320 px), light and
 * dark schemes, visible focus for keyboard users.
 */
export const CONSOLE_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f3f4f6; --card: #ffffff; --text: #111827; --muted: #4b5563; --line: #d1d5db;
  --accent: #2f4fd8; --accent-text: #ffffff; --accent-soft: #e8ecfd;
  --error: #b42318; --error-soft: #fef3f2; --ok: #067647; --ok-soft: #ecfdf3; --focus: #8aa2ff; --warn: #93370d;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1115; --card: #181b22; --text: #e5e7eb; --muted: #a1a7b3; --line: #343946;
    --accent: #7b93ff; --accent-text: #0f1115; --accent-soft: #20263a;
    --error: #ff8a80; --error-soft: #2c1716; --ok: #6ee7a8; --ok-soft: #13261c; --focus: #7b93ff; --warn: #fdb022;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--text); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus, select:focus, textarea:focus, summary:focus-visible {
  outline: 3px solid var(--focus); outline-offset: 2px;
}
.skip { position: absolute; left: -999px; top: 0; background: var(--card); padding: .5rem 1rem; z-index: 2; }
.skip:focus { left: .5rem; }
header.top { background: var(--card); border-bottom: 1px solid var(--line); }
header.top .bar { max-width: 72rem; margin: 0 auto; padding: .6rem 1rem; display: flex; flex-wrap: wrap; gap: .4rem 1.25rem; align-items: center; }
.brand { font-weight: 700; margin-right: auto; text-decoration: none; color: var(--text); }
nav ul { display: flex; flex-wrap: wrap; gap: .25rem .9rem; list-style: none; margin: 0; padding: 0; }
nav a { text-decoration: none; font-weight: 600; }
nav a[aria-current="page"] { text-decoration: underline; text-underline-offset: .3em; }
.who { color: var(--muted); font-size: .875rem; display: flex; gap: .6rem; align-items: center; flex-wrap: wrap; }
main { max-width: 72rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
h1 { font-size: 1.45rem; margin: .25rem 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.1rem; margin: 1.75rem 0 .6rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 1rem 1.1rem; margin: 0 0 1rem; }
.card > h2:first-child, .card > h3:first-child { margin-top: 0; }
.grid { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .925rem; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
th { color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .875rem; }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: .6rem .75rem; white-space: pre-wrap; overflow-wrap: anywhere; margin: 0 0 .75rem; }
.kv { display: grid; grid-template-columns: minmax(7rem, max-content) 1fr; gap: .35rem 1rem; margin: 0 0 .75rem; }
.kv dt { font-weight: 600; color: var(--muted); }
.kv dd { margin: 0; overflow-wrap: anywhere; }
.badge { display: inline-block; font-size: .8rem; font-weight: 600; border-radius: 999px; padding: .05rem .6rem; border: 1px solid var(--line); color: var(--muted); }
.badge.ok { color: var(--ok); background: var(--ok-soft); border-color: transparent; }
.badge.bad { color: var(--error); background: var(--error-soft); border-color: transparent; }
.badge.live { color: var(--accent); background: var(--accent-soft); border-color: transparent; }
.muted { color: var(--muted); }
.hidden-value { color: var(--warn); font-weight: 600; }
form.inline { display: inline; }
.filters { display: flex; flex-wrap: wrap; gap: .75rem; align-items: flex-end; margin: 0 0 1rem; }
.field { display: flex; flex-direction: column; gap: .25rem; margin: 0 0 .75rem; }
label { font-weight: 600; font-size: .9rem; }
input[type=text], input[type=search], input[type=password], select, textarea {
  font: inherit; color: inherit; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .45rem .6rem; min-height: 2.5rem; max-width: 100%;
}
textarea { width: 100%; min-height: 6rem; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .875rem; }
button {
  font: inherit; font-weight: 600; border-radius: 8px; padding: .45rem 1rem; min-height: 2.5rem; cursor: pointer;
  border: 1px solid var(--accent); background: var(--accent); color: var(--accent-text);
}
button.secondary { background: transparent; color: var(--accent); }
button.link { background: none; border: 0; color: var(--accent); padding: .2rem; min-height: 0; text-decoration: underline; }
.actions { display: flex; flex-wrap: wrap; gap: .6rem; align-items: center; }
.notice { border: 1px solid var(--ok); background: var(--ok-soft); border-radius: 10px; padding: .6rem .9rem; margin: 0 0 1rem; }
.problem { border: 1px solid var(--error); background: var(--error-soft); border-radius: 10px; padding: .6rem .9rem; margin: 0 0 1rem; }
.pager { display: flex; gap: 1rem; margin: .75rem 0; }
ol.timeline { list-style: none; margin: 0; padding: 0; }
ol.timeline li { border-left: 3px solid var(--line); padding: .25rem 0 .5rem .75rem; }
ol.timeline li.new { border-left-color: var(--accent); }
.count { font-size: 1.6rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.split { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart .axis { stroke: var(--line); }
svg.chart text { fill: var(--muted); font-size: 10px; }
svg.chart .created { fill: var(--accent); }
svg.chart .submitted { fill: var(--ok); }
svg.chart .expired { fill: var(--error); }
svg.chart .latency { fill: var(--accent); }
.legend { display: flex; gap: 1rem; flex-wrap: wrap; font-size: .85rem; margin: .25rem 0 0; padding: 0; list-style: none; }
.legend .swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; margin-right: .3rem; vertical-align: -1px; }
.swatch.created { background: var(--accent); } .swatch.submitted { background: var(--ok); } .swatch.expired { background: var(--error); }
.login { max-width: 26rem; margin: 4rem auto; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 480px) {
  main { padding: 1rem .6rem 2rem; }
  .kv { grid-template-columns: 1fr; gap: .1rem; }
  .kv dd { margin-bottom: .4rem; }
  .login { margin: 1.5rem auto; }
}
`;
