import { describeFreshness } from '../pipeline/freshness.ts';
import { STATUS_ORDER, type ClassRow, type DashboardSnapshot, type QueueRow } from './snapshot.ts';

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Bytes as a short human figure (1.5 GB), for people; the JSON keeps exact numbers. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** The JSON variant: the snapshot itself, stable field names, exact numbers. */
export function renderJson(s: DashboardSnapshot): string {
  return `${JSON.stringify(s, (_k, v: unknown) => (v === undefined ? null : v), 2)}\n`;
}

// Long reasons (origin URLs, SDK messages) would drown the table; the JSON has them whole.
const MAX_ERROR_CHARS = 300;

function progress(r: ClassRow): string {
  if (r.totalFiles === undefined) return `${r.doneFiles} / ?`;
  const pct = r.totalFiles > 0 ? Math.floor((r.doneFiles / r.totalFiles) * 100) : 100;
  return `${r.doneFiles} / ${r.totalFiles} (${pct}%)`;
}

function classRow(r: ClassRow): string {
  const err = r.lastError && r.lastError.length > MAX_ERROR_CHARS ? `${r.lastError.slice(0, MAX_ERROR_CHARS)}…` : (r.lastError ?? '');
  return [
    `<tr class="s-${escapeHtml(r.status.toLowerCase())}">`,
    `<td><code>${escapeHtml(r.classId)}</code></td>`,
    `<td>${escapeHtml(r.title ?? '')}</td>`,
    `<td>${escapeHtml(r.status)}</td>`,
    `<td class="n">${escapeHtml(progress(r))}</td>`,
    `<td class="n">${escapeHtml(formatBytes(r.doneBytes))}</td>`,
    `<td class="n">${r.failedFiles > 0 ? escapeHtml(r.failedFiles) : ''}</td>`,
    `<td class="err">${escapeHtml(err)}</td>`,
    `<td>${escapeHtml(r.updatedAt ?? '')}</td>`,
    '</tr>',
  ].join('');
}

function queueRow(q: QueueRow): string {
  const dlq = q.name.endsWith('-dlq');
  const alert = dlq && (q.visible ?? 0) > 0;
  const cells = q.error
    ? `<td colspan="3" class="err">${escapeHtml(q.error)}</td>`
    : `<td class="n">${escapeHtml(q.visible)}</td><td class="n">${escapeHtml(q.inFlight)}</td><td class="n">${escapeHtml(q.delayed)}</td>`;
  return `<tr${alert ? ' class="s-failed"' : ''}><td>${escapeHtml(q.name)}</td>${cells}</tr>`;
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
].join('');

/** The HTML page: summary, queue depths, then classes (FAILED first); every value escaped. */
export function renderHtml(s: DashboardSnapshot): string {
  const counts = STATUS_ORDER.map((st) => `${escapeHtml(st)} ${escapeHtml(s.counts[st] ?? 0)}`).join(' · ');
  const filter = s.filter ? ` with status ${escapeHtml(s.filter)}` : '';
  const nextHref = s.next ? `?${new URLSearchParams({ ...(s.filter ? { status: s.filter } : {}), cursor: s.next }).toString()}` : undefined;
  const omitted =
    s.omitted > 0
      ? `<p class="muted">${escapeHtml(s.omitted)} more classes${filter} not listed${nextHref ? ` (<a href="${escapeHtml(nextHref)}">next page</a>)` : ''}; filter with <code>?status=FAILED</code>.</p>`
      : '';
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    '<meta http-equiv="refresh" content="60">',
    `<title>FLAnts ${escapeHtml(s.stage)}</title>`,
    `<style>${STYLE}</style>`,
    '</head><body>',
    `<h1>FLAnts <span class="muted">${escapeHtml(s.stage)}</span></h1>`,
    `<p class="muted">as of ${escapeHtml(s.generatedAt)} · <a href="status.json">JSON</a></p>`,
    `<p><strong>${escapeHtml(s.totals.classes)} classes</strong>: ${counts}<br>`,
    `files ${escapeHtml(s.totals.doneFiles)} / ${escapeHtml(s.totals.totalFiles)} · ${escapeHtml(formatBytes(s.totals.doneBytes))} copied · ${escapeHtml(s.totals.failedFiles)} failed files<br>`,
    s.freshness ? `<span class="fresh">${escapeHtml(describeFreshness(s.freshness))}</span></p>` : '</p>',
    '<h2>Queues</h2>',
    '<table><thead><tr><th>queue</th><th>waiting</th><th>in flight</th><th>delayed</th></tr></thead><tbody>',
    ...s.queues.map(queueRow),
    '</tbody></table>',
    `<h2>Classes${filter}</h2>`,
    s.classes.length === 0
      ? '<p class="muted">No classes in the ledger yet.</p>'
      : [
          '<table><thead><tr><th>class</th><th>title</th><th>status</th><th>files</th><th>bytes</th><th>failed</th><th>last error</th><th>updated</th></tr></thead><tbody>',
          ...s.classes.map(classRow),
          '</tbody></table>',
        ].join('\n'),
    omitted,
    '</body></html>',
    '',
  ].join('\n');
}
