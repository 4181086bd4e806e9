// The page's panels above the class list: the totals, the rates and ETA, the queues (with the lanes'
// freshness and the origin's answers) and the status chips. Pure: strings from data.
import {
  escapeHtml as esc,
  formatBytes,
  formatDuration as fmtDur,
  RATE_WINDOWS,
  type Rate,
  type RateTracker,
} from './shared.ts';
import { ORDER, type ClassJson, type FreshnessJson, type Status, type StatusJson } from './wire.ts';

const HOUR_MS = RATE_WINDOWS.hourMs;

/** A rate as few digits as tell it: 123, 12.3, 1.23. */
export function fmtRate(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** A small line chart of `values`. */
export function spark(values: readonly number[], label: string): string {
  const w = 160;
  const h = 26;
  const max = Math.max(...values, 1e-9);
  const pts = values.map(
    (v, i) => `${((i * w) / Math.max(1, values.length - 1)).toFixed(1)},${(h - 1 - (v / max) * (h - 2)).toFixed(1)}`,
  );
  return `<svg class="spark" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(label)}"><polyline points="${pts.join(' ')}"/></svg>`;
}

/** Classes per status and the totals. */
export function summaryHtml(snap: StatusJson): string {
  const t = snap.totals;
  return (
    `<p><strong>${esc(t.classes)}${t.classes === 1 ? ' class' : ' classes'}</strong>: ${ORDER.map((s) => `${esc(s)} ${esc(snap.counts[s] || 0)}`).join(' \u00b7 ')}` +
    `<br>files ${esc(t.doneFiles)} / ${esc(t.totalFiles)} \u00b7 ${esc(formatBytes(t.doneBytes))} copied \u00b7 ${esc(t.failedFiles)}${t.failedFiles === 1 ? ' failed file' : ' failed files'}</p>`
  );
}

/** Files/s and MB/s (last 5 minutes and the hour, with charts) and the ETA of the classes in flight. */
export function ratesHtml(now: number, rates: RateTracker, rows: readonly ClassJson[]): string {
  const recent = rates.rate(RATE_WINDOWS.recentMs, now);
  const hour = rates.rate(HOUR_MS, now);
  const kept = rates.kept();
  const seen = kept.length ? now - kept[0]!.t : 0;
  const win = Math.min(HOUR_MS, Math.max(2 * 60000, seen));
  const label = (r: Rate | undefined) =>
    r && r.spanMs < HOUR_MS - 60000 ? `over the ${fmtDur(r.spanMs)} seen` : 'last hour';
  const inflight = rows.filter(
    (r) => r.status === 'TRANSFERRING' && r.totalFiles !== null && r.totalFiles !== undefined,
  );
  const left = inflight.reduce((n, r) => n + Math.max(0, (r.totalFiles ?? 0) - r.doneFiles), 0);
  const dash = '\u2014';
  let h =
    `<div>files/s <b id="rate-files">${recent ? fmtRate(recent.filesPerSecond) : dash}</b> last 5 min \u00b7 <b>${hour ? fmtRate(hour.filesPerSecond) : dash}</b> ${esc(label(hour))}${spark(rates.series(win, 40, now, 'files'), 'files per second')}</div>` +
    `<div>MB/s <b id="rate-mb">${recent ? fmtRate(recent.bytesPerSecond / 1e6) : dash}</b> last 5 min \u00b7 <b>${hour ? fmtRate(hour.bytesPerSecond / 1e6) : dash}</b> ${esc(label(hour))}${spark(rates.series(win, 40, now, 'bytes'), 'megabytes per second')}</div>` +
    `<div>ETA <b id="eta">${inflight.length ? (recent && recent.filesPerSecond > 0 ? esc(fmtDur((left / recent.filesPerSecond) * 1000)) : dash) : 'nothing in flight'}</b>` +
    `${inflight.length ? ` for ${inflight.length}${inflight.length === 1 ? ' class' : ' classes'} in flight (${left}${left === 1 ? ' file' : ' files'} left)` : ''}</div>`;
  // Always there, so the page below never shifts when the first rate appears.
  h += '<div class="muted">measured by this page from the totals it sees (kept for an hour in this browser)</div>';
  return h;
}

function laneLine(name: string, f: FreshnessJson): string {
  const took = (s: number | null) => esc(fmtDur((s ?? 0) * 1000));
  return `${esc(name)}: ${f.classes ? `median ${took(f.medianSeconds)}, p95 ${took(f.p95Seconds)}, worst ${took(f.worstSeconds)} over ${f.classes} classes` : 'no class completed'} (last ${f.windowHours} h)`;
}

/** The queues' depths and ages, the lanes' freshness, and the origin's answers per host. */
export function queuesHtml(snap: StatusJson): string {
  let h =
    '<table><thead><tr><th>queue</th><th>waiting</th><th>in flight</th><th>delayed</th><th>oldest</th><th>what to do</th></tr></thead><tbody>';
  for (const q of snap.queues) {
    const alert = /-dlq$/.test(q.name) && (q.visible ?? 0) > 0;
    const oldest = q.oldestSentAt
      ? esc(fmtDur(Math.max(0, Date.parse(q.oldestAsOf || snap.generatedAt) - Date.parse(q.oldestSentAt)))) +
        // A metric's figure (CloudWatch, minutes late) says how old it is rather than pass for now.
        (q.oldestAsOf
          ? ` (as of ${fmtDur(Math.max(0, Date.parse(snap.generatedAt) - Date.parse(q.oldestAsOf)))} ago)`
          : '')
      : '\u2014';
    h +=
      `<tr${alert ? ' class="s-failed"' : ''}><td>${esc(q.name)}</td>` +
      (q.error
        ? `<td colspan="4" class="err">${esc(q.error)}</td>`
        : `<td class="n">${esc(q.visible)}</td><td class="n">${esc(q.inFlight)}</td><td class="n">${esc(q.delayed)}</td><td class="n">${oldest}</td>`) +
      `<td class="advice">${esc(q.advice || '')}</td></tr>`;
  }
  h += '</tbody></table>';
  // Fresh work and the backfill, apart (issue 25): a backfill's old classes would hide the fresh ones' figure.
  const lf = snap.laneFreshness;
  if (lf)
    h += `<p class="muted" id="lane-freshness">${laneLine('fresh work', lf.fresh)}<br>${laneLine('backfill', lf.backfill)}</p>`;
  // The origin's answers to the fleet (per host, last minutes), when the ledger has them.
  const o = snap.origins || [];
  if (o.length) {
    const per = (n: number, m: number) => (n / (m * 60)).toFixed(2);
    h += `<h2>Origin, last ${esc(o[0]!.minutes)} min</h2><table><thead><tr><th>host</th><th>answers/s</th><th>throttled/s</th><th>distress/s</th><th>mean latency</th><th>last throttle</th></tr></thead><tbody>`;
    for (const r of o) {
      h +=
        `<tr${r.throttled > 0 ? ' class="s-failed"' : ''}><td>${esc(r.host)}</td><td class="n">${per(r.ok + r.throttled + r.distress + r.other, r.minutes)}</td><td class="n">${per(r.throttled, r.minutes)}` +
        `</td><td class="n">${per(r.distress, r.minutes)}</td><td class="n">${r.latencyMsMean === undefined || r.latencyMsMean === null ? '' : `${esc(r.latencyMsMean)} ms`}</td><td>` +
        `${r.lastThrottle ? `throttled by the origin: ${esc(r.lastThrottle)} at ${esc(r.lastThrottleAt)}` : ''}</td></tr>`;
    }
    h += '</tbody></table>';
  }
  return h;
}

/** The status chips: all, each status, stuck; the current filter pressed. */
export function chipsHtml(all: number, counts: StatusJson['counts'], stuck: number, filter: string): string {
  const chips: Array<[Status | '' | 'STUCK', string, number]> = [
    ['', 'all', all],
    ...ORDER.map((s): [Status, string, number] => [s, s, counts[s] || 0]),
    ['STUCK', 'stuck', stuck],
  ];
  return chips
    .map((c) => `<button data-f="${c[0]}" aria-pressed="${filter === c[0]}">${esc(c[1])} ${esc(c[2])}</button>`)
    .join(' ');
}
