// What the reader chose to see (status filter, search, sort, stuck threshold, open classes), kept in
// the browser between visits, and the order and selection of the class list it makes. Pure.
import type { ClassState } from './rows.ts';
import { ORDER, type ClassJson } from './wire.ts';

export interface View {
  /** A status, STUCK, or '' for every class. */
  filter: string;
  query: string;
  /** A column key (rows.ts, COLUMNS), or '' for the page's own order. */
  sortKey: string;
  sortDir: 1 | -1;
  /** Minutes without progress after which a moving class is stuck. */
  stuckMin: number;
  /** FAILED then stuck classes first, whatever the sort. */
  problemsFirst: boolean;
  /** Classes whose details are open. */
  open: Set<string>;
}

export interface Shown {
  r: ClassJson;
  st: ClassState;
}

function asRecord(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

/** The view kept in the browser (anything unreadable as the default); the page's own filter wins. */
export function viewFrom(kept: unknown, pageFilter: string): View {
  const k = asRecord(kept);
  return {
    filter: pageFilter || (typeof k.filter === 'string' ? k.filter : ''),
    query: typeof k.q === 'string' ? k.q : '',
    sortKey: typeof k.sort === 'string' ? k.sort : '',
    sortDir: k.dir === -1 ? -1 : 1,
    stuckMin: typeof k.stuck === 'number' && k.stuck > 0 ? k.stuck : 10,
    problemsFirst: k.first !== false,
    open: new Set(Array.isArray(k.open) ? k.open.filter((x): x is string => typeof x === 'string') : []),
  };
}

/** The view as it is kept (the last 200 open classes). */
export function viewToKeep(v: View): Record<string, unknown> {
  return {
    filter: v.filter,
    q: v.query,
    sort: v.sortKey,
    dir: v.sortDir,
    stuck: v.stuckMin,
    first: v.problemsFirst,
    open: Array.from(v.open).slice(-200),
  };
}

/** True when the class passes the view's filter and search; `stuck` is asked only when filtering by it. */
export function matches(v: View, r: ClassJson, stuck: () => boolean): boolean {
  if (v.filter === 'STUCK') {
    if (!stuck()) return false;
  } else if (v.filter && r.status !== v.filter) return false;
  if (!v.query) return true;
  const q = v.query.toLowerCase();
  return (
    r.classId.toLowerCase().indexOf(q) >= 0 ||
    String(r.title || '')
      .toLowerCase()
      .indexOf(q) >= 0
  );
}

function sortValue(key: string, r: ClassJson, st: ClassState): string | number {
  switch (key) {
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

/** `a < b` for values of one sort key (each key's values are all numbers or all strings). */
function less(a: string | number, b: string | number): boolean {
  return typeof a === 'number' && typeof b === 'number' ? a < b : String(a) < String(b);
}

/** The list's order: problems first (if chosen), then the sort column, or status and recency; class id last. */
export function compareShown(v: View): (a: Shown, b: Shown) => number {
  return (a, b) => {
    if (v.problemsFirst) {
      const ra = a.r.status === 'FAILED' ? 0 : a.st.stuck ? 1 : 2;
      const rb = b.r.status === 'FAILED' ? 0 : b.st.stuck ? 1 : 2;
      if (ra !== rb) return ra - rb;
    }
    if (v.sortKey) {
      const va = sortValue(v.sortKey, a.r, a.st);
      const vb = sortValue(v.sortKey, b.r, b.st);
      if (less(va, vb)) return -v.sortDir;
      if (less(vb, va)) return v.sortDir;
    } else {
      const s = ORDER.indexOf(a.r.status) - ORDER.indexOf(b.r.status);
      if (s) return s;
      const t = String(b.r.updatedAt || '').localeCompare(String(a.r.updatedAt || ''));
      if (t) return t;
    }
    return a.r.classId < b.r.classId ? -1 : a.r.classId > b.r.classId ? 1 : 0;
  };
}
