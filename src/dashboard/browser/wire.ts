// What the live page reads from the server: status.json (a DashboardSnapshot as renderJson writes it,
// undefined as null), status.json?class=<id> (ClassFailures), and the frame's data attributes.
// Written here by shape, because the browser's type check cannot load the server's modules (they
// need Node's types); test/dashboard/client.test.ts has tsc check that the server's types, as JSON,
// fit these, so a field renamed on one side fails the type check.

/** How often the live page asks status.json for news (a page URL's `?interval=ms` overrides it, 250 ms at least). */
export const POLL_INTERVAL_MS = 2000;

/** Class statuses, in the order the page lists them: what needs a look first. */
export const ORDER = ['FAILED', 'TRANSFERRING', 'CRAWLING', 'PENDING', 'COMPLETE'] as const;
export type Status = (typeof ORDER)[number];

export interface BitsJson {
  unit: string;
  total: number;
  done: string;
  failed: string;
}

export interface ClassJson {
  classId: string;
  title: string | null;
  status: Status;
  doneFiles: number;
  totalFiles: number | null;
  doneBytes: number;
  failedFiles: number;
  lastError: string | null;
  updatedAt: string | null;
  bits: BitsJson | null;
  gen: number;
  failedAttempts: number;
  waitUntil: string | null;
  createdAt: string | null;
  completedAt: string | null;
  freshnessSeconds?: number | null;
  goneAtOrigin?: { count: number; keys: string[] } | null;
  verified?: { at: string; gen: number; result: string; stale: boolean } | null;
  fileAccount?: string | null;
}

export interface QueueJson {
  name: string;
  visible: number | null;
  inFlight: number | null;
  delayed: number | null;
  error: string | null;
  advice: string | null;
  oldestSentAt?: string | null;
  oldestAsOf?: string | null;
}

export interface FreshnessJson {
  windowHours: number;
  classes: number;
  medianSeconds: number | null;
  p95Seconds: number | null;
  worstSeconds: number | null;
}

export interface OriginJson {
  host: string;
  minutes: number;
  ok: number;
  throttled: number;
  distress: number;
  other: number;
  latencyMsMean: number | null;
  lastThrottle: string | null;
  lastThrottleAt: string | null;
}

/** status.json. */
export interface StatusJson {
  stage: string;
  generatedAt: string;
  counts: Record<Status, number>;
  totals: { classes: number; doneFiles: number; totalFiles: number; doneBytes: number; failedFiles: number };
  classes: ClassJson[];
  omitted: number;
  next: string | null;
  filter: Status | null;
  queues: QueueJson[];
  version: string;
  freshnessText?: string | null;
  laneFreshness?: { fresh: FreshnessJson; backfill: FreshnessJson } | null;
  origins?: OriginJson[] | null;
}

/** status.json?class=<id>: the class's failed files. */
export interface FailuresJson {
  classId: string;
  failures: Array<{
    chunk: number;
    at: string;
    provisional: boolean;
    files: Array<{ key: string; reason: string }>;
    notListed: number;
  }>;
  more: boolean;
}
