import { count } from '../util/plural.ts';
import { clientScript, POLL_INTERVAL_MS } from './client.ts';
import { escapeHtml, formatBytes } from './format.ts';
import { barText, countBits, filesProgress } from './progress.ts';
import { describeFreshness, formatSeconds } from '../views/freshness.ts';
import { describeLaneFreshness } from '../views/lane-freshness.ts';
import { describeGone, describeVerified } from '../views/report.ts';
import {
  oldestAsOfSeconds,
  oldestSeconds,
  STATUS_ORDER,
  type ClassRow,
  type DashboardSnapshot,
  type QueueRow,
} from './snapshot.ts';
import { describeAsOf } from '../domain/lifecycle/queue-age.ts';

export { escapeHtml, formatBytes };

/** The JSON variant: the snapshot itself, stable field names, exact numbers. */
export function renderJson(s: DashboardSnapshot): string {
  return `${JSON.stringify(s, (_k, v: unknown) => (v === undefined ? null : v), 2)}\n`;
}

// Long reasons (origin URLs, SDK messages) would drown the table; the JSON has them whole.
const MAX_ERROR_CHARS = 300;

/** Cells of the text bar in the page without script (the live page draws every bit). */
const STATIC_BAR_CELLS = 40;

function bitsCell(r: ClassRow): string {
  if (!r.bits) return '<td></td>';
  const done = countBits(r.bits.done);
  const failed = countBits(r.bits.failed);
  const title = `${done} of ${r.bits.total} ${r.bits.unit}s done${failed ? `, ${failed} failed` : ''}`;
  return `<td class="bar" title="${escapeHtml(title)}">${escapeHtml(barText(r.bits, STATIC_BAR_CELLS))}</td>`;
}

function classRow(r: ClassRow): string {
  const err =
    r.lastError && r.lastError.length > MAX_ERROR_CHARS
      ? `${r.lastError.slice(0, MAX_ERROR_CHARS)}…`
      : (r.lastError ?? '');
  const gone = describeGone(r.goneAtOrigin);
  const verified = describeVerified(r.verified);
  return [
    `<tr class="s-${escapeHtml(r.status.toLowerCase())}">`,
    `<td><code>${escapeHtml(r.classId)}</code></td>`,
    `<td>${escapeHtml(r.title ?? '')}</td>`,
    `<td>${escapeHtml(r.status)}</td>`,
    `<td class="n">${escapeHtml(filesProgress(r.doneFiles, r.totalFiles))}</td>`,
    `<td class="n">${escapeHtml(formatBytes(r.doneBytes))}</td>`,
    `<td class="n">${r.failedFiles > 0 ? escapeHtml(r.failedFiles) : ''}</td>`,
    `<td class="err">${escapeHtml(err)}${gone ? `<div class="gone">${escapeHtml(gone)}</div>` : ''}${verified ? `<div class="${r.verified!.result === 'OK' ? 'verified' : 'unverified'}">${r.verified!.result === 'OK' && !r.verified!.stale ? '✓ ' : ''}${escapeHtml(verified)}</div>` : ''}</td>`,
    `<td>${escapeHtml(r.updatedAt ?? '')}</td>`,
    bitsCell(r),
    '</tr>',
  ].join('');
}

function queueRow(q: QueueRow, generatedAt: string): string {
  const oldest = oldestSeconds(q, generatedAt);
  const dlq = q.name.endsWith('-dlq');
  const alert = dlq && (q.visible ?? 0) > 0;
  const cells = q.error
    ? `<td colspan="4" class="err">${escapeHtml(q.error)}</td>`
    : `<td class="n">${escapeHtml(q.visible)}</td><td class="n">${escapeHtml(q.inFlight)}</td><td class="n">${escapeHtml(q.delayed)}</td><td class="n">${oldest === undefined ? '—' : escapeHtml(formatSeconds(oldest) + describeAsOf(oldestAsOfSeconds(q, generatedAt), formatSeconds))}</td>`;
  return `<tr${alert ? ' class="s-failed"' : ''}><td>${escapeHtml(q.name)}</td>${cells}<td class="advice">${escapeHtml(q.advice ?? '')}</td></tr>`;
}

const STYLE = [
  'body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222}',
  'table{border-collapse:collapse;margin:.5rem 0 1.5rem}',
  'th,td{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:left;vertical-align:top}',
  'td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}',
  'td:first-child,td:last-child{white-space:nowrap}',
  'td.err{color:#a00;max-width:40rem;word-break:break-word}',
  'tr.s-failed td{background:#fdecea}tr.s-complete td{color:#555}',
  '.muted{color:#666}',
  'td.bar{font:12px/1.4 "DejaVu Sans Mono",ui-monospace,monospace;white-space:nowrap;color:#2a7}',
  'tr.s-failed td.bar{color:#a00}',
].join('');

// The live page (drawn by its script, src/dashboard/browser/, from status.json): a grid of class blocks, each a line of
// figures and a line of bits; blocks off screen are neither laid out nor painted.
const LIVE_STYLE = [
  '[hidden]{display:none!important}',
  '#live header{display:flex;gap:1rem;align-items:baseline;flex-wrap:wrap}#live h1{margin:0 0 .3rem}',
  '.dot{display:inline-block;width:.6rem;height:.6rem;border-radius:50%;background:#2a7;margin-right:.3rem}',
  'body.stale .dot{background:#c60}',
  '.banner{background:#fff4e0;border:1px solid #e0a040;padding:.4rem .7rem;margin:.5rem 0}',
  '.figs{display:flex;flex-wrap:wrap;gap:.3rem 2rem;margin:.5rem 0}.figs b{font-variant-numeric:tabular-nums}',
  '.spark{vertical-align:middle;margin-left:.4rem}.spark polyline{fill:none;stroke:#2a7;stroke-width:1.5}',
  '#controls{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center;margin:1rem 0 .5rem}',
  '#controls button{font:inherit;border:1px solid #bbb;background:#fff;border-radius:1rem;padding:.1rem .7rem;cursor:pointer}',
  '#controls button[aria-pressed=true]{background:#222;color:#fff;border-color:#222}',
  '#controls input[type=search]{width:16rem}#controls input[type=number]{width:4rem}',
  '.line,.hdr{display:grid;grid-template-columns:1.4rem 14rem minmax(6rem,1fr) 7.5rem 10rem 5.5rem 3.5rem 6rem 8rem;gap:0 .6rem;align-items:baseline}',
  '.hdr{position:sticky;top:0;background:#fff;border-bottom:2px solid #ccc;z-index:1;font-weight:600}',
  '.hdr button{font:inherit;border:0;background:none;padding:.2rem 0;cursor:pointer;text-align:left}.hdr .n button{text-align:right;width:100%}',
  '.cls{border-bottom:1px solid #e4e4e4;padding:.25rem 0;content-visibility:auto;contain-intrinsic-size:auto 3rem}',
  '.line{cursor:pointer}.line .n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}',
  '.line .ti{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}',
  '.tg{border:0;background:none;font:inherit;cursor:pointer;padding:0;width:1.2rem}',
  '.st{font-size:.85em;font-weight:600}.s-failed .st{color:#a00}.s-transferring .st{color:#1a5fb4}.s-complete .st{color:#777}',
  '.cls.s-failed{background:#fdecea}.cls.stuck{background:#fff4e0}.cls.stuck .st::after{content:" · stuck";color:#c60}',
  // 16 px: at 12 px the ◉ and ✕ glyphs are about 8 px wide and hard to tell apart; a failed bit is white on red.
  '.bits{font:16px/1.25 "DejaVu Sans Mono",ui-monospace,monospace;overflow-wrap:anywhere;word-break:break-all;margin:.15rem 0 0 2rem;color:#1e8a5a}',
  '.bits .f{color:#fff;background:#c00;font-weight:700;border-radius:2px}',
  '.sum{margin:.1rem 0 0 2rem;color:#777;font-size:.9em}',
  '.note{margin:.15rem 0 0 2rem;color:#a00;word-break:break-word}.cls:not(.s-failed) .note{color:#8a5a00}',
  '.more{margin:.4rem 0 .4rem 2rem;padding:.4rem .6rem;background:#f7f7f7;border-left:3px solid #ccc}',
  '.more table{margin:.3rem 0}.more td{font-size:.9em;white-space:normal;word-break:break-word}.more .note{margin-left:0}',
  'td.advice{white-space:normal;max-width:36rem;color:#a00}',
  'code{font-family:"DejaVu Sans Mono",ui-monospace,monospace;font-size:.92em}',
].join('');

/** The origin's answers per host over the last minutes (absent when nothing was reported). */
export function originTable(s: Pick<DashboardSnapshot, 'origins'>): string {
  if (!s.origins?.length) return '';
  const per = (n: number, minutes: number) => (n / (minutes * 60)).toFixed(2);
  return [
    `<h2>Origin, last ${escapeHtml(s.origins[0]!.minutes)} min</h2>`,
    '<table><thead><tr><th>host</th><th>answers/s</th><th>throttled/s</th><th>distress/s</th><th>mean latency</th><th>last throttle</th></tr></thead><tbody>',
    ...s.origins.map(
      (o) =>
        `<tr${o.throttled > 0 ? ' class="s-failed"' : ''}><td>${escapeHtml(o.host)}</td><td class="n">${per(o.ok + o.throttled + o.distress + o.other, o.minutes)}</td>` +
        `<td class="n">${per(o.throttled, o.minutes)}</td><td class="n">${per(o.distress, o.minutes)}</td>` +
        `<td class="n">${o.latencyMsMean === undefined ? '' : `${escapeHtml(o.latencyMsMean)} ms`}</td>` +
        `<td>${o.lastThrottle ? `throttled by the origin: ${escapeHtml(o.lastThrottle)} at ${escapeHtml(o.lastThrottleAt)}` : ''}</td></tr>`,
    ),
    '</tbody></table>',
  ].join('\n');
}

/** The live page's frame; its script (src/dashboard/browser/) fills it from status.json and keeps it current. */
function liveFrame(s: DashboardSnapshot): string {
  return [
    `<main id="live" hidden data-stage="${escapeHtml(s.stage)}" data-interval="${POLL_INTERVAL_MS}" data-filter="${escapeHtml(s.filter ?? '')}">`,
    `<header><h1>FLAnts <span class="muted">${escapeHtml(s.stage)}</span></h1><span id="freshline" class="muted"></span><a href="status.json">JSON</a></header>`,
    '<section id="summary"></section>',
    '<section id="rates" class="figs"></section>',
    '<section id="freshness" class="muted"></section>',
    '<h2>Queues</h2><section id="queues"></section>',
    '<h2>Classes</h2>',
    '<section id="controls">',
    '<span id="chips" role="group" aria-label="status"></span>',
    '<input id="q" type="search" placeholder="class id or title" aria-label="search by class id or title">',
    '<label>stuck after <input id="stuck" type="number" min="1" max="1440" value="10"> min without progress</label>',
    '<label><input id="first" type="checkbox" checked> FAILED and stuck first</label>',
    '</section>',
    '<div id="list" role="table" aria-label="classes"></div>',
    '<p id="more-info" class="muted"></p>',
    '</main>',
  ].join('\n');
}

/**
 * The HTML page: summary, queue depths, then classes (FAILED first); every value escaped. Its
 * script then draws the live page from status.json over it and keeps it current; where the script
 * cannot reach status.json (a saved copy of the IAM-protected page), this static page stays.
 */
export function renderHtml(s: DashboardSnapshot): string {
  const counts = STATUS_ORDER.map((st) => `${escapeHtml(st)} ${escapeHtml(s.counts[st] ?? 0)}`).join(' · ');
  const filter = s.filter ? ` with status ${escapeHtml(s.filter)}` : '';
  const nextHref = s.next
    ? `?${new URLSearchParams({ ...(s.filter ? { status: s.filter } : {}), cursor: s.next }).toString()}`
    : undefined;
  const omitted =
    s.omitted > 0
      ? `<p class="muted">${escapeHtml(s.omitted)} more classes${filter} not listed${nextHref ? ` (<a href="${escapeHtml(nextHref)}">next page</a>)` : ''}; filter with <code>?status=FAILED</code>.</p>`
      : '';
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    '<noscript><meta http-equiv="refresh" content="60"></noscript>',
    `<title>FLAnts ${escapeHtml(s.stage)}</title>`,
    `<style>${STYLE}${LIVE_STYLE}</style>`,
    '</head><body>',
    '<div id="stale" class="banner" hidden></div>',
    '<main id="static">',
    `<h1>FLAnts <span class="muted">${escapeHtml(s.stage)}</span></h1>`,
    `<p class="muted">as of ${escapeHtml(s.generatedAt)} · <a href="status.json">JSON</a></p>`,
    `<p><strong>${escapeHtml(count(s.totals.classes, 'class', 'classes'))}</strong>: ${counts}<br>`,
    `files ${escapeHtml(s.totals.doneFiles)} / ${escapeHtml(s.totals.totalFiles)} · ${escapeHtml(formatBytes(s.totals.doneBytes))} copied · ${escapeHtml(count(s.totals.failedFiles, 'failed file'))}<br>`,
    s.freshness ? `<span class="fresh">${escapeHtml(describeFreshness(s.freshness))}</span></p>` : '</p>',
    '<h2>Queues</h2>',
    '<table><thead><tr><th>queue</th><th>waiting</th><th>in flight</th><th>delayed</th><th>oldest</th><th>what to do</th></tr></thead><tbody>',
    ...s.queues.map((q) => queueRow(q, s.generatedAt)),
    '</tbody></table>',
    s.laneFreshness
      ? `<p class="muted" id="lane-freshness">${describeLaneFreshness(s.laneFreshness).map(escapeHtml).join('<br>')}</p>`
      : '',
    originTable(s),
    `<h2>Classes${filter}</h2>`,
    s.classes.length === 0
      ? '<p class="muted">No classes in the ledger yet.</p>'
      : [
          '<table><thead><tr><th>class</th><th>title</th><th>status</th><th>files</th><th>bytes</th><th>failed</th><th>last error</th><th>updated</th><th>progress</th></tr></thead><tbody>',
          ...s.classes.map(classRow),
          '</tbody></table>',
        ].join('\n'),
    omitted,
    '</main>',
    liveFrame(s),
    `<script>${clientScript().script}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
