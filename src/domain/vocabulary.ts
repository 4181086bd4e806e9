// The words settings and rules share: queue names and lanes, the catalog's fields, the enumeration's limits.
// They live in the domain so pure rules can name them without importing the module that reads the
// environment (src/config.ts), which imports them from here.

/** Where each stage's named queue lives and what it is called. */
export type QueueRole = 'scan' | 'crawl' | 'transfer';
export const QUEUE_ROLES: readonly QueueRole[] = ['scan', 'crawl', 'transfer'];

/**
 * Each stage has two lanes (docs/architecture.md, "Fresh first"): `fresh` for classes that ended
 * recently, changed, or were enqueued by hand, `bulk` for everything else (a backfill). Same code,
 * separate queues: fresh work never waits behind bulk work.
 */
export type Lane = 'bulk' | 'fresh';
/** A stage's work queue in a lane: `crawl` (bulk) or `crawl-fresh`. */
export type WorkQueueName = QueueRole | `${QueueRole}-fresh`;
/** A work queue, or its dead-letter queue. */
export type QueueName = WorkQueueName | `${WorkQueueName}-dlq`;

/** Field names of a catalog document, configurable because catalogs differ. */
export interface CatalogFields {
  title: string;
  manifestUrl: string;
  status: string;
  isTest: string;
  startedAt: string;
  endedAt: string;
  /** When the document last changed: what the incremental scan reads by (with endedAt). */
  updatedAt: string;
}

/** Catalog fields an incremental scan may read by: each must hold a BSON date, indexed with `_id`. */
export const CHANGE_FIELDS = ['updatedAt', 'endedAt'] as const;
export type ChangeField = (typeof CHANGE_FIELDS)[number];

export interface HlsLimits {
  /** Largest playlist body accepted, in bytes. */
  maxPlaylistBytes: number;
  /** Most playlists fetched for one class. */
  maxPlaylists: number;
  /** Most files (of all kinds) in one class. */
  maxFiles: number;
  /** Deepest chain of master playlists referencing master playlists (master → media is depth 1). */
  maxDepth: number;
  /** Playlist bytes one class's crawl may fetch in all (unbounded when unset). */
  maxCrawlBytes?: number;
  /** Most Periods in one DASH manifest (DASH_MAX_PERIODS; default 1000). */
  maxPeriods?: number;
  /** Most segments one DASH Representation lists in one Period (DASH_MAX_SEGMENTS; default 100000). */
  maxSegments?: number;
  /**
   * Manifests copied beside every class's entry manifest when the origin has them (ALSO_COPY_MANIFESTS,
   * e.g. `manifest.mpd`): relative references resolved against the catalog's manifestUrl.
   */
  alsoCopyManifests?: string[];
}

/** What travels the fresh lane (read from the environment by src/config.ts; applied by lifecycle/lanes.ts). */
export interface FreshRules {
  /** A class that ended at most this many hours before it is scanned is fresh; 0: none by age. */
  withinHours: number;
  /** A change check's finding is copied in the fresh lane. */
  changed: boolean;
  /** A class named by `flants enqueue <classId>` travels the fresh lane. */
  enqueue: boolean;
}

/** Most chunks one class may have: the ledger keeps a chunk's number in its records (docs/ledger.md). */
export const MAX_CHUNKS_PER_CLASS = 1_000_000;
