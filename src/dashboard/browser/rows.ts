// The class list's HTML: one block per class (a line of figures, a line of bits), the details of an
// open one, and the column header. Pure: strings from data, the DOM is main.ts's.
import { escapeHtml as esc, filesProgress, formatBytes, formatDuration as fmtDur, hexDigit } from './shared.ts';
import type { BitsJson, ClassJson, FailuresJson } from './wire.ts';

/** What the page derived for a class from what it saw over time. */
export interface ClassState {
  stuck: boolean;
  /** Milliseconds to every file at its recent rate; undefined when unknown. */
  eta: number | undefined;
}

/** Where the failed files of an open class stand (status.json?class=<id>). */
export type FailureLoad =
  | { sig: string; state: 'loading' }
  | { sig: string; state: 'ok'; data: FailuresJson }
  | { sig: string; state: 'error'; error: string };

const MARK = { d: '\u25C9', w: '\u25EF', f: '\u2715' } as const;

/** The sortable columns: key, label, class of the cell. */
export const COLUMNS: ReadonlyArray<readonly [string, string, string?]> = [
  ['', ''],
  ['classId', 'class'],
  ['title', 'title'],
  ['status', 'status'],
  ['progress', 'files', 'n'],
  ['doneBytes', 'bytes', 'n'],
  ['failedFiles', 'failed', 'n'],
  ['eta', 'ETA', 'n'],
  ['updatedAt', 'updated', 'n'],
];

/** An instant in the reader's time zone: the time alone when it is today. */
export function fmtTime(iso: string | null | undefined): string {
  const d = new Date(iso || '');
  if (isNaN(d.getTime())) return '';
  return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
}

/** At most `n` characters, an ellipsis when cut. */
export function cut(s: string | null | undefined, n: number): string {
  const t = String(s || '');
  return t.length > n ? `${t.slice(0, n)}\u2026` : t;
}

// The bit field (docs/ledger.md): bit i is the most significant bit first of hex digit i >> 2.
// Done and waiting marks share one text node (their shapes tell them apart); only runs of failed
// marks get a span: a line costs a handful of DOM nodes however its bits interleave.
export function bitsLine(b: BitsJson): { html: string; counts: { d: number; w: number; f: number } } {
  const counts = { d: 0, w: 0, f: 0 };
  let out = '';
  let text = '';
  let failedRun = '';
  const digits = Math.ceil(b.total / 4);
  for (let j = 0; j < digits; j++) {
    const dn = hexDigit(b.done, j);
    const fn = hexDigit(b.failed, j);
    for (let k = 0; k < 4 && j * 4 + k < b.total; k++) {
      const m = 8 >> k;
      const x = fn & m ? 'f' : dn & m ? 'd' : 'w';
      counts[x]++;
      if (x === 'f') {
        if (text) {
          out += text;
          text = '';
        }
        failedRun += MARK.f;
      } else {
        if (failedRun) {
          out += `<span class="f">${failedRun}</span>`;
          failedRun = '';
        }
        text += MARK[x];
      }
    }
  }
  out += text;
  if (failedRun) out += `<span class="f">${failedRun}</span>`;
  return { html: out, counts };
}

/** Files the origin no longer has under the class, in a sentence; empty when none. */
export function goneText(r: ClassJson): string {
  const g = r.goneAtOrigin;
  if (!g || !g.count) return '';
  return `${g.count} file(s) gone at the origin, their verified copies kept in the bucket`;
}

function failuresHtml(f: FailureLoad | undefined): string {
  if (!f || f.state === 'loading') return '<p class="muted">loading the failed files\u2026</p>';
  if (f.state === 'error') return `<p class="note">could not load the failed files: ${esc(f.error)}</p>`;
  const list = f.data.failures || [];
  let h = '<table><thead><tr><th>chunk</th><th>failed file</th><th>reason</th></tr></thead><tbody>';
  for (const c of list) {
    for (const file of c.files)
      h += `<tr><td>${esc(c.chunk)}</td><td><code>${esc(file.key)}</code></td><td class="err">${esc(file.reason)}</td></tr>`;
    if (c.notListed)
      h += `<tr><td>${esc(c.chunk)}</td><td colspan="2" class="muted">and ${esc(c.notListed)} more</td></tr>`;
    if (c.provisional)
      h += `<tr><td>${esc(c.chunk)}</td><td colspan="2" class="muted">recorded when its last delivery began: the function may have crashed or timed out</td></tr>`;
  }
  h += '</tbody></table>';
  if (!list.length) h += '<p class="muted">no failed files are recorded for the current plan</p>';
  return h;
}

/** An open class's details: its dates, notes, verification, files gone at the origin, failed files. */
export function moreHtml(r: ClassJson, st: ClassState, failure: FailureLoad | undefined): string {
  let h = '<div class="more">';
  const facts = [`generation ${r.gen}`];
  if (r.bits) facts.push(`${r.bits.total} ${r.bits.unit}s`);
  if (r.createdAt) facts.push(`first enqueued ${fmtTime(r.createdAt)}`);
  if (r.updatedAt) facts.push(`updated ${fmtTime(r.updatedAt)}`);
  if (r.completedAt)
    facts.push(
      `complete ${fmtTime(r.completedAt)}${r.createdAt ? ` (${fmtDur(Date.parse(r.completedAt) - Date.parse(r.createdAt))} after first enqueue)` : ''}`,
    );
  if (typeof r.freshnessSeconds === 'number')
    facts.push(`fresh in ${fmtDur(r.freshnessSeconds * 1000)} (class end \u2192 COMPLETE)`);
  if (r.failedAttempts) facts.push(`${r.failedAttempts} failed deliveries retried`);
  if (st.eta !== undefined) facts.push(`ETA ${fmtDur(st.eta)}`);
  h += `<div class="muted">${esc(facts.join(' \u00b7 '))}</div>`;
  if (r.lastError) h += `<div class="note">${esc(r.lastError)}</div>`;
  const v = r.verified;
  if (v)
    h +=
      `<div class="${v.result === 'OK' ? 'muted' : 'note'}">${v.result === 'OK' && !v.stale ? '\u2713 ' : ''}` +
      `verified ${esc(fmtTime(v.at))}: ${esc(v.result)}${v.stale ? ` (of generation ${esc(v.gen)}: copied again since)` : ''}</div>`;
  const g = r.goneAtOrigin;
  if (g && goneText(r)) {
    h += `<p class="muted gone">${esc(goneText(r))}${g.count > g.keys.length ? ` (the first ${esc(g.keys.length)} listed)` : ''}:</p><ul class="gone">`;
    for (const k of g.keys) h += `<li><code>${esc(k)}</code></li>`;
    h += '</ul>';
  }
  if (r.failedFiles) {
    h += failuresHtml(failure);
    h +=
      '<p class="muted">Fix the cause, then run <code>flants redrive --queue transfer</code>: a redriven chunk that succeeds clears its failure.</p>';
  }
  return `${h}</div>`;
}

/** A class's block: its line of figures, its bits (or a summary once COMPLETE), notes, details when open. */
export function rowHtml(r: ClassJson, st: ClassState, isOpen: boolean, failure: FailureLoad | undefined): string {
  let h =
    `<div class="line" role="row"><button class="tg" aria-expanded="${isOpen}" aria-label="details of ${esc(r.classId)}">${isOpen ? '\u25BE' : '\u25B8'}</button>` +
    `<code class="id">${esc(r.classId)}</code><span class="ti" title="${esc(r.title)}">${esc(r.title)}</span>` +
    `<span class="st">${esc(r.status)}</span><span class="n">${esc(filesProgress(r.doneFiles, r.totalFiles))}</span><span class="n">${esc(formatBytes(r.doneBytes))}</span>` +
    `<span class="n">${r.failedFiles ? esc(r.failedFiles) : ''}</span><span class="n">${st.eta !== undefined ? esc(fmtDur(st.eta)) : ''}</span>` +
    `<span class="n" title="${esc(r.updatedAt)}">${esc(fmtTime(r.updatedAt))}</span></div>`;
  if (r.bits && (r.status !== 'COMPLETE' || isOpen)) {
    const line = bitsLine(r.bits);
    const title = `${line.counts.d} of ${r.bits.total} ${r.bits.unit}s done${line.counts.f ? `, ${line.counts.f} failed` : ''}, ${line.counts.w} waiting`;
    h += `<div class="bits" title="${esc(title)}" aria-label="${esc(title)}">${line.html}</div>`;
  } else if (r.status === 'COMPLETE') {
    const took =
      typeof r.freshnessSeconds === 'number'
        ? ` \u00b7 fresh in ${fmtDur(r.freshnessSeconds * 1000)} (class end \u2192 COMPLETE)`
        : r.createdAt && r.completedAt
          ? ` \u00b7 ${fmtDur(Date.parse(r.completedAt) - Date.parse(r.createdAt))} from first enqueue to complete`
          : '';
    h += `<div class="sum">\u25C9 all ${esc(r.bits ? `${r.bits.total} ${r.bits.unit}s` : `${r.doneFiles} files`)} done \u00b7 ${esc(formatBytes(r.doneBytes))}${esc(took)}</div>`;
  }
  if (r.lastError && !isOpen) h += `<div class="note">${esc(cut(r.lastError, 300))}</div>`;
  if (goneText(r) && !isOpen) h += `<div class="muted gone">${esc(goneText(r))}</div>`;
  if (r.fileAccount) h += `<div class="muted account">${esc(r.fileAccount)}</div>`;
  if (isOpen) h += moreHtml(r, st, failure);
  return h;
}

/** The column header: each column a button that sorts by it, the sorted one marked ▲ or ▼. */
export function headerHtml(sortKey: string, sortDir: number): string {
  return COLUMNS.map((c) => {
    if (!c[0]) return '<span></span>';
    const mark = sortKey === c[0] ? (sortDir > 0 ? ' \u25B2' : ' \u25BC') : '';
    return `<span class="${c[2] || ''}" role="columnheader"><button data-sort="${c[0]}">${c[1]}${mark}</button></span>`;
  }).join('');
}
