import type { DeliveryAttempt, FormSession } from "@agent-sessions/core";
import { html, type SafeHtml } from "../hosted/html.js";

const HOUR = 3_600_000;
const SERIES = ["created", "submitted", "expired"] as const;

/** Form sessions created, submitted and expired in each of the 24 hours before `now`, the oldest hour first. */
export function hourlyCounts(sessions: readonly FormSession[], now: number): Record<(typeof SERIES)[number], number[]> {
  const start = Math.floor(now / HOUR) * HOUR - 23 * HOUR;
  const counts = { created: new Array<number>(24).fill(0), submitted: new Array<number>(24).fill(0), expired: new Array<number>(24).fill(0) };
  const add = (series: number[], at: number | null | undefined) => {
    if (at == null || at < start || at > now) return;
    series[Math.min(23, Math.floor((at - start) / HOUR))]! += 1;
  };
  for (const session of sessions) {
    add(counts.created, session.createdAt);
    add(counts.submitted, session.submission?.submittedAt);
    add(counts.expired, session.expiredAt);
  }
  return counts;
}

/**
 * Grouped bars of the hourly counts as inline SVG, drawn on the server with presentation
 * attributes and classes only (the CSP allows no style attribute), named for screen readers.
 */
export function hourlyChart(counts: Record<(typeof SERIES)[number], number[]>, now: number): SafeHtml {
  const width = 720;
  const height = 180;
  const top = 12;
  const bottom = 24;
  const left = 28;
  const plot = height - top - bottom;
  const max = Math.max(1, ...SERIES.flatMap((series) => counts[series]));
  const slot = (width - left) / 24;
  const bar = Math.max(1, (slot - 4) / 3);
  const firstHour = new Date(Math.floor(now / HOUR) * HOUR - 23 * HOUR).getUTCHours();
  const bars = SERIES.flatMap((series, s) =>
    counts[series].map((count, hour) => {
      if (count === 0) return null;
      const h = (count / max) * plot;
      const x = left + hour * slot + 2 + s * bar;
      return html`<rect class="${series}" x="${x.toFixed(1)}" y="${(top + plot - h).toFixed(1)}" width="${bar.toFixed(1)}" height="${h.toFixed(1)}"><title>${count} ${series}, ${String((firstHour + hour) % 24).padStart(2, "0")}:00 UTC</title></rect>`;
    }),
  );
  const ticks = [0, 6, 12, 18, 23].map(
    (hour) =>
      html`<text x="${(left + hour * slot + slot / 2).toFixed(1)}" y="${height - 8}" text-anchor="middle">${String((firstHour + hour) % 24).padStart(2, "0")}h</text>`,
  );
  const totals = SERIES.map((series) => `${counts[series].reduce((a, b) => a + b, 0)} ${series}`).join(", ");
  return html`<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="hourly-title hourly-desc" focusable="false">
<title id="hourly-title">Form sessions per hour, last 24 hours</title>
<desc id="hourly-desc">${totals}; the highest hour has ${max}.</desc>
<line class="axis" x1="${left}" y1="${top + plot}" x2="${width}" y2="${top + plot}"></line>
<text x="0" y="${top + 8}">${max}</text><text x="0" y="${top + plot}">0</text>
${bars}${ticks}
</svg>
<ul class="legend">${SERIES.map((series) => html`<li><span class="swatch ${series}" aria-hidden="true"></span>${series}</li>`)}</ul>`;
}

/** The upper bounds of the latency chart's buckets, in milliseconds; the last is open. */
const LATENCY_BUCKETS = [50, 100, 250, 500, 1000, 2500, 5000] as const;

/** The `p`-th percentile (0 to 1) of sorted durations, by nearest rank. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** A histogram of delivery durations (attempts that got an answer or timed out), with the median and 95th percentile. */
export function latencyChart(attempts: readonly DeliveryAttempt[], id: string): SafeHtml {
  const durations = attempts
    .filter((attempt) => attempt.outcome !== "started")
    .map((attempt) => attempt.durationMs)
    .sort((a, b) => a - b);
  if (durations.length === 0) return html`<p class="muted">No deliveries yet.</p>`;
  const counts = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);
  for (const ms of durations) {
    const bucket = LATENCY_BUCKETS.findIndex((bound) => ms < bound);
    counts[bucket === -1 ? LATENCY_BUCKETS.length : bucket]! += 1;
  }
  const labels = [...LATENCY_BUCKETS.map((bound) => (bound >= 1000 ? `<${bound / 1000}s` : `<${bound}ms`)), `≥${LATENCY_BUCKETS.at(-1)! / 1000}s`];
  const width = 720;
  const height = 170;
  const top = 12;
  const plot = height - top - 24;
  const slot = width / counts.length;
  const max = Math.max(1, ...counts);
  const bars = counts.map((count, i) => {
    const h = (count / max) * plot;
    const x = i * slot + 6;
    return html`<rect class="latency" x="${x.toFixed(1)}" y="${(top + plot - h).toFixed(1)}" width="${(slot - 12).toFixed(1)}" height="${h.toFixed(1)}"><title>${count} attempts ${labels[i]!}</title></rect>
<text x="${(x + (slot - 12) / 2).toFixed(1)}" y="${height - 8}" text-anchor="middle">${labels[i]!}</text>${count > 0 ? html`<text x="${(x + (slot - 12) / 2).toFixed(1)}" y="${(top + plot - h - 3).toFixed(1)}" text-anchor="middle">${count}</text>` : null}`;
  });
  const summary = `${durations.length} attempts; median ${percentile(durations, 0.5)} ms, 95th percentile ${percentile(durations, 0.95)} ms, slowest ${durations.at(-1)} ms`;
  return html`<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}-title ${id}-desc" focusable="false">
<title id="${id}-title">Webhook delivery latency</title>
<desc id="${id}-desc">${summary}</desc>
<line class="axis" x1="0" y1="${top + plot}" x2="${width}" y2="${top + plot}"></line>
${bars}
</svg>
<p class="muted">${summary}.</p>`;
}
