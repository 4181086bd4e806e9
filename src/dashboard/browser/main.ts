// The live page's script, bundled by esbuild into the page (scripts/dashboard-script.cjs; how it
// reaches the page: src/dashboard/client.ts). It polls status.json (If-None-Match, so an unchanged
// ledger costs a 304), derives rates, ETAs and stuck classes from what it saw over time with the
// server's own arithmetic (progress.ts, through shared.ts; samples kept per stage in localStorage, so
// a reload keeps the hour), and keeps the class list current by updating only the blocks whose data
// changed: scroll position, filters, search, sort and open rows survive every refresh. Each class's
// bits are one text line of ◯ ◉ ✕ in a few spans (one per run of a state), and blocks off screen skip
// layout (`content-visibility`), so 1,000 classes of 5,000 bits stay smooth. The CSP allows exactly
// this script, by its hash.
import { chipsHtml, queuesHtml, ratesHtml, summaryHtml } from './panels.ts';
import { cut, goneText, headerHtml, rowHtml, type ClassState, type FailureLoad } from './rows.ts';
import {
  escapeHtml as esc,
  formatDuration as fmtDur,
  ProgressTracker,
  RATE_WINDOWS,
  RateTracker,
  type RateSample,
} from './shared.ts';
import { ORDER, POLL_INTERVAL_MS, type ClassJson, type FailuresJson, type StatusJson } from './wire.ts';

const HOUR_MS = RATE_WINDOWS.hourMs;
/** Pages of status.json read per refresh: beyond them the page says how many classes it did not load. */
const MAX_PAGES = 20;

/** status.json as the page loaded it: every page it read, and how many classes it left. */
interface Loaded extends StatusJson {
  notLoaded: number;
}

interface Shown {
  r: ClassJson;
  st: ClassState;
}

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

function asRecord(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

/** A sample as the page keeps it in localStorage ({t, f, b}: files and bytes). */
function isStoredSample(v: unknown): v is { t: number; f: number; b: number } {
  const s = asRecord(v);
  return typeof s.t === 'number' && typeof s.f === 'number' && typeof s.b === 'number';
}

/** `a < b` for values of one sort key (each key's values are all numbers or all strings). */
function less(a: string | number, b: string | number): boolean {
  return typeof a === 'number' && typeof b === 'number' ? a < b : String(a) < String(b);
}

function start(live: HTMLElement): void {
  const staticView = document.getElementById('static');
  const STAGE = live.getAttribute('data-stage') || '';
  const asked = Number(new URLSearchParams(location.search).get('interval'));
  const INTERVAL = asked >= 250 ? asked : Number(live.getAttribute('data-interval')) || POLL_INTERVAL_MS;
  const STALE_MS = Math.max(3 * INTERVAL, 10000);

  let store: Storage | null = null;
  try {
    localStorage.setItem('flants:probe', '1');
    localStorage.removeItem('flants:probe');
    store = localStorage;
  } catch {
    store = null;
  }
  const load = (name: string): unknown => {
    try {
      const v = store && store.getItem(`flants:${STAGE}:${name}`);
      return v ? (JSON.parse(v) as unknown) : undefined;
    } catch {
      return undefined;
    }
  };
  const save = (name: string, value: unknown): void => {
    try {
      if (store) store.setItem(`flants:${STAGE}:${name}`, JSON.stringify(value));
    } catch {
      /* full or refused: the page works without */
    }
  };

  const kept = asRecord(load('view'));
  let filter = live.getAttribute('data-filter') || (typeof kept.filter === 'string' ? kept.filter : '');
  let query = typeof kept.q === 'string' ? kept.q : '';
  let sortKey = typeof kept.sort === 'string' ? kept.sort : '';
  let sortDir = kept.dir === -1 ? -1 : 1;
  let stuckMin = typeof kept.stuck === 'number' && kept.stuck > 0 ? kept.stuck : 10;
  let problemsFirst = kept.first !== false;
  const open = new Set<string>(
    Array.isArray(kept.open) ? kept.open.filter((x): x is string => typeof x === 'string') : [],
  );
  const saveView = (): void => {
    save('view', {
      filter,
      q: query,
      sort: sortKey,
      dir: sortDir,
      stuck: stuckMin,
      first: problemsFirst,
      open: Array.from(open).slice(-200),
    });
  };

  let snap: Loaded | null = null;
  let rows: ClassJson[] = [];
  let byId = new Map<string, ClassJson>();
  let etag: string | null = null;
  let lastOk = 0;
  let lastError = '';
  let busy = false;
  let timer = 0;
  let refreshes = 0;
  const stored = load('samples');
  const samples: RateSample[] = (Array.isArray(stored) ? stored : [])
    .filter(isStoredSample)
    .filter((s) => s.t > Date.now() - HOUR_MS - 60000)
    .map((s) => ({ t: s.t, files: s.f, bytes: s.b }));
  // The page polls fast; samples closer than 200 ms add nothing to an hour's rates.
  const rates = new RateTracker({ samples, minGapMs: 200 });
  const progress = new ProgressTracker();
  const failures = new Map<string, FailureLoad>();
  const nodes = new Map<string, { el: HTMLElement; sig: string }>();

  const stateOf = (r: ClassJson, now: number): ClassState => ({
    stuck: progress.isStuck(r, stuckMin, now),
    eta: progress.eta(r),
  });

  function observe(now: number): void {
    if (!snap) return;
    rates.add(now, snap.totals.doneFiles, snap.totals.doneBytes);
    save(
      'samples',
      rates.kept().map((s) => ({ t: s.t, f: s.files, b: s.bytes })),
    );
    progress.observe(rows, now);
    progress.keepOnly(new Set(rows.map((r) => r.classId)));
  }

  function matches(r: ClassJson, now: number): boolean {
    if (filter === 'STUCK') {
      if (!progress.isStuck(r, stuckMin, now)) return false;
    } else if (filter && r.status !== filter) return false;
    if (!query) return true;
    const q = query.toLowerCase();
    return (
      r.classId.toLowerCase().indexOf(q) >= 0 ||
      String(r.title || '')
        .toLowerCase()
        .indexOf(q) >= 0
    );
  }
  function sortValue(r: ClassJson, st: ClassState): string | number {
    switch (sortKey) {
      case 'classId':
        return r.classId;
      case 'title':
        return String(r.title || '').toLowerCase();
      case 'status':
        return ORDER.indexOf(r.status);
      case 'progress':
        return r.totalFiles ? r.doneFiles / r.totalFiles : r.totalFiles === 0 ? 1 : -1;
      case 'eta':
        return st.eta === undefined ? Infinity : st.eta;
      case 'updatedAt':
        return r.updatedAt || '';
      case 'doneBytes':
        return r.doneBytes;
      case 'failedFiles':
        return r.failedFiles;
      default:
        // A key kept from an older page: no order of its own, so by class id.
        return 0;
    }
  }
  function compare(a: Shown, b: Shown): number {
    if (problemsFirst) {
      const ra = a.r.status === 'FAILED' ? 0 : a.st.stuck ? 1 : 2;
      const rb = b.r.status === 'FAILED' ? 0 : b.st.stuck ? 1 : 2;
      if (ra !== rb) return ra - rb;
    }
    if (sortKey) {
      const va = sortValue(a.r, a.st);
      const vb = sortValue(b.r, b.st);
      if (less(va, vb)) return -sortDir;
      if (less(vb, va)) return sortDir;
    } else {
      const s = ORDER.indexOf(a.r.status) - ORDER.indexOf(b.r.status);
      if (s) return s;
      const t = String(b.r.updatedAt || '').localeCompare(String(a.r.updatedAt || ''));
      if (t) return t;
    }
    return a.r.classId < b.r.classId ? -1 : a.r.classId > b.r.classId ? 1 : 0;
  }

  const failureSig = (r: ClassJson): string => `${r.gen}:${r.failedFiles}:${r.bits ? r.bits.failed : ''}`;
  function loadFailures(r: ClassJson): void {
    if (!r.failedFiles) return;
    const sig = failureSig(r);
    const f = failures.get(r.classId);
    if (f && f.sig === sig && f.state !== 'error') return;
    failures.set(r.classId, { sig, state: 'loading' });
    void fetch(`status.json?class=${encodeURIComponent(r.classId)}`, { cache: 'no-store', credentials: 'same-origin' })
      .then((res) => {
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        return res.json() as Promise<FailuresJson>;
      })
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
    const h = headerHtml(sortKey, sortDir);
    if (hdr.innerHTML !== h) hdr.innerHTML = h;
    const shown: Shown[] = [];
    for (const r of rows) if (matches(r, now)) shown.push({ r, st: stateOf(r, now) });
    shown.sort(compare);
    let cursor = hdr.nextSibling;
    for (const x of shown) {
      const r = x.r;
      const id = r.classId;
      const isOpen = open.has(id);
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
    const stuck = rows.filter((r) => progress.isStuck(r, stuckMin, now)).length;
    const h = chipsHtml(rows.length, s.counts, stuck, filter);
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

  function getJson(url: string, conditional: boolean): Promise<{ body: StatusJson; tag: string | null } | null> {
    const headers: Record<string, string> = {};
    if (conditional && etag) headers['If-None-Match'] = etag;
    return fetch(url, { headers, cache: 'no-store', credentials: 'same-origin' }).then((res) => {
      if (res.status === 304) return null;
      if (!res.ok)
        return res.text().then((t): never => {
          throw new Error(`status.json answered HTTP ${res.status}${t ? ` (${cut(t.trim(), 200)})` : ''}`);
        });
      return (res.json() as Promise<StatusJson>).then((body) => ({ body, tag: res.headers.get('etag') }));
    });
  }
  function fetchAll(): Promise<Loaded | null> {
    return getJson('status.json?limit=5000', true).then((first) => {
      if (!first) return null;
      let all = first.body.classes;
      let next = first.body.next;
      let left = first.body.omitted;
      let pages = 1;
      const more = (): Loaded | Promise<Loaded> => {
        if (!next || pages >= MAX_PAGES) {
          etag = first.tag;
          return { ...first.body, classes: all, notLoaded: next ? left : 0 };
        }
        return getJson(`status.json?limit=5000&cursor=${encodeURIComponent(next)}`, false).then((p) => {
          if (!p) throw new Error('status.json answered 304 to a request for its next page');
          all = all.concat(p.body.classes);
          next = p.body.next;
          left = p.body.omitted;
          pages++;
          return more();
        });
      };
      return more();
    });
  }
  function tick(): void {
    if (document.hidden) {
      schedule(INTERVAL);
      return;
    }
    if (busy) return;
    busy = true;
    const t0 = performance.now();
    void fetchAll()
      .then(
        (fresh) => {
          const now = Date.now();
          lastOk = now;
          lastError = '';
          if (fresh) {
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
    filter = filter === f ? '' : f;
    saveView();
    render(Date.now());
  });
  const q = $<HTMLInputElement>('q');
  const stuck = $<HTMLInputElement>('stuck');
  const first = $<HTMLInputElement>('first');
  q.value = query;
  stuck.value = String(stuckMin);
  first.checked = problemsFirst;
  let typing = 0;
  q.addEventListener('input', () => {
    clearTimeout(typing);
    typing = window.setTimeout(() => {
      query = q.value.trim();
      saveView();
      renderList(Date.now());
    }, 120);
  });
  stuck.addEventListener('change', () => {
    const v = Number(stuck.value);
    if (v >= 1) {
      stuckMin = v;
      saveView();
      render(Date.now());
    }
  });
  first.addEventListener('change', () => {
    problemsFirst = first.checked;
    saveView();
    renderList(Date.now());
  });
  $('list').addEventListener('click', (e) => {
    const s = closest(e, 'button[data-sort]');
    if (s) {
      const k = s.getAttribute('data-sort') || '';
      if (sortKey === k) sortDir = -sortDir;
      else {
        sortKey = k;
        sortDir = 1;
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
    if (open.has(id)) open.delete(id);
    else open.add(id);
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
