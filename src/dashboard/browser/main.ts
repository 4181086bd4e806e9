// The live page's script, bundled by esbuild into the page (scripts/dashboard-script.cjs; how it
// reaches the page: src/dashboard/client.ts). It polls status.json (If-None-Match, so an unchanged
// ledger costs a 304), derives rates, ETAs and stuck classes from what it saw over time with the
// server's own arithmetic (progress.ts, through shared.ts; samples kept per stage in localStorage, so
// a reload keeps the hour), and keeps the class list current by updating only the blocks whose data
// changed: scroll position, filters, search, sort and open rows survive every refresh. Each class's
// bits are one text line of ◯ ◉ ✕ in a few spans (one per run of a state), and blocks off screen skip
// layout (`content-visibility`), so 1,000 classes of 5,000 bits stay smooth. The CSP allows exactly
// this script, by its hash.
import { compareShown, matches, viewFrom, viewToKeep, type Shown } from './order.ts';
import { chipsHtml, queuesHtml, ratesHtml, summaryHtml } from './panels.ts';
import { fetchFailures, fetchStatus, MAX_PAGES, type Loaded } from './poll.ts';
import { goneText, headerHtml, rowHtml, type ClassState, type FailureLoad } from './rows.ts';
import { samplesFrom, samplesToKeep, savedFor } from './saved.ts';
import { escapeHtml as esc, formatDuration as fmtDur, ProgressTracker, RateTracker } from './shared.ts';
import { POLL_INTERVAL_MS, type ClassJson } from './wire.ts';

/** Browsers too old for the page keep the static one the server drew. */
function supported(): boolean {
  return (
    typeof window.fetch === 'function' &&
    typeof Map === 'function' &&
    typeof Set === 'function' &&
    typeof Element.prototype.closest === 'function' &&
    // progress.ts uses it; esbuild lowers syntax to 2017's, not the library.
    typeof Array.prototype.at === 'function'
  );
}

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the dashboard page has no #${id}`);
  return el as T;
}

/** The element matching `selector` at or above the event's target. */
function closest(e: Event, selector: string): Element | null {
  return e.target instanceof Element ? e.target.closest(selector) : null;
}

function errorText(err: unknown): string {
  return (err instanceof Error && err.message) || String(err);
}

function start(live: HTMLElement): void {
  const staticView = document.getElementById('static');
  const STAGE = live.getAttribute('data-stage') || '';
  const asked = Number(new URLSearchParams(location.search).get('interval'));
  const INTERVAL = asked >= 250 ? asked : Number(live.getAttribute('data-interval')) || POLL_INTERVAL_MS;
  const STALE_MS = Math.max(3 * INTERVAL, 10000);

  const saved = savedFor(STAGE);
  const view = viewFrom(saved.load('view'), live.getAttribute('data-filter') || '');
  const saveView = (): void => saved.save('view', viewToKeep(view));

  let snap: Loaded | null = null;
  let rows: ClassJson[] = [];
  let byId = new Map<string, ClassJson>();
  let etag: string | null = null;
  let lastOk = 0;
  let lastError = '';
  let busy = false;
  let timer = 0;
  let refreshes = 0;
  // The page polls fast; samples closer than 200 ms add nothing to an hour's rates.
  const rates = new RateTracker({ samples: samplesFrom(saved.load('samples'), Date.now()), minGapMs: 200 });
  const progress = new ProgressTracker();
  const failures = new Map<string, FailureLoad>();
  const nodes = new Map<string, { el: HTMLElement; sig: string }>();

  const stateOf = (r: ClassJson, now: number): ClassState => ({
    stuck: progress.isStuck(r, view.stuckMin, now),
    eta: progress.eta(r),
  });

  function observe(now: number): void {
    if (!snap) return;
    rates.add(now, snap.totals.doneFiles, snap.totals.doneBytes);
    saved.save('samples', samplesToKeep(rates.kept()));
    progress.observe(rows, now);
    progress.keepOnly(new Set(rows.map((r) => r.classId)));
  }

  const failureSig = (r: ClassJson): string => `${r.gen}:${r.failedFiles}:${r.bits ? r.bits.failed : ''}`;
  function loadFailures(r: ClassJson): void {
    if (!r.failedFiles) return;
    const sig = failureSig(r);
    const f = failures.get(r.classId);
    if (f && f.sig === sig && f.state !== 'error') return;
    failures.set(r.classId, { sig, state: 'loading' });
    void fetchFailures(r.classId)
      .then(
        (data) => {
          failures.set(r.classId, { sig, state: 'ok', data });
        },
        (err: unknown) => {
          failures.set(r.classId, { sig, state: 'error', error: errorText(err) });
        },
      )
      .then(() => renderList(Date.now()));
  }

  function renderList(now: number): void {
    const list = $('list');
    let hdr = list.firstElementChild;
    if (!hdr || hdr.className !== 'hdr') {
      hdr = document.createElement('div');
      hdr.className = 'hdr';
      hdr.setAttribute('role', 'row');
      list.insertBefore(hdr, list.firstChild);
    }
    const h = headerHtml(view.sortKey, view.sortDir);
    if (hdr.innerHTML !== h) hdr.innerHTML = h;
    const shown: Shown[] = [];
    for (const r of rows)
      if (matches(view, r, () => progress.isStuck(r, view.stuckMin, now))) shown.push({ r, st: stateOf(r, now) });
    shown.sort(compareShown(view));
    let cursor = hdr.nextSibling;
    for (const x of shown) {
      const r = x.r;
      const id = r.classId;
      const isOpen = view.open.has(id);
      if (isOpen) loadFailures(r);
      const f = failures.get(id);
      const sig = [
        r.status,
        r.doneFiles,
        r.totalFiles,
        r.doneBytes,
        r.failedFiles,
        r.lastError,
        r.updatedAt,
        r.bits ? `${r.bits.total}${r.bits.done}/${r.bits.failed}` : '',
        goneText(r),
        x.st.stuck,
        x.st.eta === undefined ? '' : fmtDur(x.st.eta),
        isOpen,
        isOpen && f ? f.state + f.sig : '',
      ].join('|');
      let n = nodes.get(id);
      if (!n) {
        n = { el: document.createElement('div'), sig: '' };
        n.el.setAttribute('data-id', id);
        nodes.set(id, n);
      }
      if (n.sig !== sig) {
        n.el.className = `cls s-${r.status.toLowerCase()}${x.st.stuck ? ' stuck' : ''}${isOpen ? ' open' : ''}`;
        // Off-screen blocks are skipped by layout; this guess of their height keeps the scrollbar honest.
        const lines = r.bits && r.status !== 'COMPLETE' ? Math.ceil(r.bits.total / 140) : 1;
        n.el.style.containIntrinsicSize = `auto ${26 + lines * 15 + (r.lastError ? 18 : 0) + (goneText(r) ? 18 : 0)}px`;
        n.el.innerHTML = rowHtml(r, x.st, isOpen, f);
        n.sig = sig;
      }
      if (n.el === cursor) cursor = cursor.nextSibling;
      else list.insertBefore(n.el, cursor);
    }
    while (cursor) {
      const next: ChildNode | null = cursor.nextSibling;
      list.removeChild(cursor);
      cursor = next;
    }
    nodes.forEach((_n, id) => {
      if (!byId.has(id)) nodes.delete(id);
    });
    const info: string[] = [];
    if (shown.length < rows.length) info.push(`${shown.length} of ${rows.length} classes match`);
    if (snap && snap.notLoaded)
      info.push(
        `${snap.notLoaded} more classes were not loaded (the page reads at most ${MAX_PAGES} pages; filter with ?status=)`,
      );
    $('more-info').textContent = info.join(' \u00b7 ');
    if (!shown.length) $('more-info').textContent = rows.length ? 'No class matches.' : 'No classes in the ledger yet.';
  }

  function renderChips(s: Loaded, now: number): void {
    const stuck = rows.filter((r) => progress.isStuck(r, view.stuckMin, now)).length;
    const h = chipsHtml(rows.length, s.counts, stuck, view.filter);
    const el = $('chips');
    if (el.innerHTML !== h) el.innerHTML = h;
  }
  function renderFreshness(now: number): void {
    const age = lastOk ? now - lastOk : 0;
    const stale = !lastOk || age > STALE_MS || !!lastError;
    document.body.classList.toggle('stale', stale);
    $('freshline').innerHTML =
      `<span class="dot"></span>${lastOk ? `${stale ? 'stale' : 'live'} \u00b7 checked ${esc(fmtDur(age))} ago \u00b7 every ${esc(fmtDur(INTERVAL))}` : 'loading'}`;
    const banner = $('stale');
    if (lastError || (lastOk && age > STALE_MS)) {
      let msg = lastOk
        ? `Stale: the last successful refresh was ${fmtDur(age)} ago.`
        : 'Live updates are off: this is the page as it was served.';
      if (lastError) msg += ` ${lastError}.`;
      if (/HTTP 40[13]/.test(lastError))
        msg +=
          ' The deployed dashboard answers only IAM-signed requests, which a browser does not make; "flants dashboard" serves a live page locally.';
      banner.textContent = msg;
      banner.hidden = false;
    } else banner.hidden = true;
  }

  function render(now: number): void {
    if (!snap) return;
    const t0 = performance.now();
    $('summary').innerHTML = summaryHtml(snap);
    $('rates').innerHTML = ratesHtml(now, rates, rows);
    // The ledger's freshness (class end to COMPLETE), as flants status --watch prints it.
    $('freshness').textContent = snap.freshnessText || '';
    $('queues').innerHTML = queuesHtml(snap);
    renderChips(snap, now);
    renderList(now);
    if (live.hidden) {
      live.hidden = false;
      if (staticView) staticView.hidden = true;
    }
    // Lay the page out now, so the figure below is the time to a drawn page.
    void $('list').offsetHeight;
    const ms = String(Math.round(performance.now() - t0));
    live.setAttribute('data-render-ms', ms);
    if (!live.hasAttribute('data-first-render-ms')) live.setAttribute('data-first-render-ms', ms);
    renderFreshness(now);
  }

  function tick(): void {
    if (document.hidden) {
      schedule(INTERVAL);
      return;
    }
    if (busy) return;
    busy = true;
    const t0 = performance.now();
    void fetchStatus(etag)
      .then(
        (got) => {
          const now = Date.now();
          lastOk = now;
          lastError = '';
          if (got) {
            const fresh = got.snap;
            etag = got.etag;
            snap = fresh;
            rows = fresh.classes;
            byId = new Map(rows.map((r) => [r.classId, r]));
            live.setAttribute('data-fetch-ms', String(Math.round(performance.now() - t0)));
          }
          observe(now);
          render(now);
          refreshes++;
          live.setAttribute('data-refreshes', String(refreshes));
        },
        (err: unknown) => {
          lastError = errorText(err);
          renderFreshness(Date.now());
        },
      )
      .then(() => {
        busy = false;
        schedule(INTERVAL);
      });
  }
  function schedule(ms: number): void {
    clearTimeout(timer);
    timer = window.setTimeout(tick, ms);
  }

  $('chips').addEventListener('click', (e) => {
    const b = closest(e, 'button[data-f]');
    if (!b) return;
    const f = b.getAttribute('data-f') || '';
    view.filter = view.filter === f ? '' : f;
    saveView();
    render(Date.now());
  });
  const q = $<HTMLInputElement>('q');
  const stuck = $<HTMLInputElement>('stuck');
  const first = $<HTMLInputElement>('first');
  q.value = view.query;
  stuck.value = String(view.stuckMin);
  first.checked = view.problemsFirst;
  let typing = 0;
  q.addEventListener('input', () => {
    clearTimeout(typing);
    typing = window.setTimeout(() => {
      view.query = q.value.trim();
      saveView();
      renderList(Date.now());
    }, 120);
  });
  stuck.addEventListener('change', () => {
    const v = Number(stuck.value);
    if (v >= 1) {
      view.stuckMin = v;
      saveView();
      render(Date.now());
    }
  });
  first.addEventListener('change', () => {
    view.problemsFirst = first.checked;
    saveView();
    renderList(Date.now());
  });
  $('list').addEventListener('click', (e) => {
    const s = closest(e, 'button[data-sort]');
    if (s) {
      const k = s.getAttribute('data-sort') || '';
      if (view.sortKey === k) view.sortDir = view.sortDir === 1 ? -1 : 1;
      else {
        view.sortKey = k;
        view.sortDir = 1;
      }
      saveView();
      renderList(Date.now());
      return;
    }
    if (closest(e, '.more')) return;
    const line = closest(e, '.line');
    if (!line) return;
    // Selecting text in a line is not a click on it (the toggle button always is).
    if (String(typeof window.getSelection === 'function' ? window.getSelection() : '').length && !closest(e, '.tg'))
      return;
    const id = line.parentElement?.getAttribute('data-id');
    if (!id) return;
    if (view.open.has(id)) view.open.delete(id);
    else view.open.add(id);
    saveView();
    renderList(Date.now());
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) schedule(0);
  });
  setInterval(() => renderFreshness(Date.now()), 1000);
  tick();
}

const live = document.getElementById('live');
if (live && supported()) start(live);
