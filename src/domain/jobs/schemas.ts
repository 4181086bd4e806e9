import { z } from 'zod';
import { PoisonMessageError } from '../../errors.ts';
import { CHANGE_FIELDS } from '../vocabulary.ts';
import { FILE_KINDS } from '../../hls/types.ts';

/** The current version of every message FLAnts sends; a receiver refuses any other. */
export const MESSAGE_VERSION = 2;

/** An ISO-8601 instant as `Date.prototype.toISOString` writes it. */
const isoInstant = z
  .string()
  .max(40)
  .refine((s) => /^\d{4}-\d{2}-\d{2}T/.test(s) && Number.isFinite(Date.parse(s)), 'must be an ISO-8601 instant');
const classId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\w.:-]+$/, 'class id may hold letters, digits, "_", "-", ".", ":" only');
/**
 * A scan page's claim token: the sender draws one per message it sends, and SQS keeps it in the body
 * through redeliveries and through a DLQ redrive (which gives the message a new id).
 */
const pageToken = z.string().regex(/^[0-9a-f-]{8,64}$/, 'a page token is 8 to 64 hex digits or "-"');
const httpUrl = z
  .string()
  .max(4096)
  .refine((s) => /^https?:\/\//i.test(s) && URL.canParse(s), 'must be an absolute http(s) URL');

/** A kind of id, as the catalog names it (MongoDB: `objectId`, `string`): a word, opaque to the pipeline. */
const idKind = z.string().regex(/^[A-Za-z][\w-]{0,31}$/, 'an id kind is a word of at most 32 characters');

/** "Scan the catalog" (cron, or `flants scan`), optionally continuing after a cursor. */
export const CatalogScanSchema = z.strictObject({
  v: z.literal(MESSAGE_VERSION),
  type: z.literal('scan'),
  mode: z.literal('catalog'),
  force: z.boolean().optional(),
  /** Continuation: the class id that ended the previous page of `phase`. */
  after: z.string().min(1).max(256).optional(),
  /** Which of the catalog's id kinds is being paged (the catalog names them: `Catalog.idKinds`); `after` is of this kind. */
  phase: idKind.optional(),
  scanId: z.string().max(64).optional(),
  /** Read the whole catalog, whatever the watermark (`flants scan --full`). */
  full: z.boolean().optional(),
  /** An incremental scan: documents whose change field is at or after this instant (watermark − overlap). */
  since: isoInstant.optional(),
  /** Continuation of an incremental scan: the change field being read, and where its last page ended. */
  cursor: z
    .strictObject({
      field: z.enum(CHANGE_FIELDS),
      at: isoInstant.optional(),
      id: z.string().min(1).max(256).optional(),
      /** The kind of `id` (one of `Catalog.idKinds`). */
      idKind: idKind.optional(),
      /** As cursors said before `idKind` (still read from messages sent then): true for the first id kind, false for the second. */
      oid: z.boolean().optional(),
    })
    .optional(),
  /** When the scan's first page ran: the watermark its last page sets. */
  startedAt: isoInstant.optional(),
  /** Claims this page for this message however it comes back (redelivered or redriven); see docs/ledger.md "Scan pages". */
  token: pageToken.optional(),
});

/** "This one class" (`flants enqueue <classId>`). */
export const ClassScanSchema = z.strictObject({
  v: z.literal(MESSAGE_VERSION),
  type: z.literal('scan'),
  mode: z.literal('class'),
  classId,
  force: z.boolean().optional(),
});

/**
 * "Check COMPLETE classes for changes at the origin" (the recheck schedule, `flants scan --recheck`):
 * one class, or every COMPLETE class page by page through the ledger's class index.
 */
export const RecheckScanSchema = z.strictObject({
  v: z.literal(MESSAGE_VERSION),
  type: z.literal('scan'),
  mode: z.literal('recheck'),
  /** Only this class. */
  classId: classId.optional(),
  /** Continuation: the shard of the class index being read, and the last class id read in it. */
  shard: z.number().int().min(0).max(255).optional(),
  after: z.string().min(1).max(256).optional(),
  scanId: z.string().max(64).optional(),
  /** Claims this page for this message however it comes back (redelivered or redriven). */
  token: pageToken.optional(),
});

export const ScanRequestSchema = z.discriminatedUnion('mode', [CatalogScanSchema, ClassScanSchema, RecheckScanSchema]);

export const CrawlJobSchema = z.strictObject({
  v: z.literal(MESSAGE_VERSION),
  type: z.literal('crawl'),
  classId,
  manifestUrl: httpUrl,
  title: z.string().max(1024).optional(),
  /** Copy again even if complete: starts a new plan generation. */
  force: z.boolean().optional(),
  requestedAt: z.string().max(64).optional(),
  /** When the class ended (catalog `endedAt`): the grace period for still-growing playlists counts from it. */
  endedAt: z.string().max(64).optional(),
  /**
   * A change check (`flants scan --recheck`, the recheck schedule): compare the COMPLETE generation's
   * files with the origin first, and plan a new generation only if something changed.
   */
  recheck: z.boolean().optional(),
  /**
   * Sent by a transfer that found a playlist naming other files than the plan (PLAYLIST_CHANGED):
   * the generation and re-plan count its job was sent with (one re-plan per round, however many
   * chunks found it), and the playlist, for the failure that ends a run of re-plans (REPLAN_MAX).
   */
  replan: z
    .strictObject({
      gen: z.number().int().min(1),
      replans: z.number().int().min(0),
      key: z.string().min(1).max(1024),
      src: httpUrl,
    })
    .optional(),
  /** Times the crawl went back to its queue because the origin throttled it (absent: 0). */
  deferrals: z.number().int().min(0).max(1000).optional(),
});

export const FileKindSchema = z.enum(FILE_KINDS);

export const TransferFileSchema = z.strictObject({
  src: httpUrl,
  key: z.string().min(1).max(1024),
  kind: FileKindSchema,
  /** For a playlist: the length and SHA-256 of the bytes the crawler enumerated (the same bytes need no scan). */
  bytes: z.number().int().min(0).optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /**
   * For a playlist: the reference digest the crawler enumerated (src/hls/reference-digest.ts); the
   * copy is held to it. A job without one (sent before it existed) is held to `sha256`, the bytes.
   */
  refs: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /** For a playlist a redirect above it moved: where it sits in the layout (its references are keyed from there). */
  base: httpUrl.optional(),
  /** For a playlist that IMPORTs variables: their values, to scan it again alone. */
  vars: z
    .record(
      z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/)
        .max(256),
      z.string().max(8192),
    )
    .refine((v) => Object.keys(v).length <= 64, 'at most 64 imported variables')
    .optional(),
});

export const TransferJobSchema = z.strictObject({
  v: z.literal(MESSAGE_VERSION),
  type: z.literal('transfer'),
  classId,
  /** The plan generation this job belongs to; a job of any other generation counts nothing. */
  gen: z.number().int().min(1),
  /** The content id of that generation's plan (file list, playlist digests, chunk size), for logs. */
  planId: z.string().regex(/^[0-9a-f]{8,64}$/),
  chunk: z.number().int().min(0),
  files: z.array(TransferFileSchema).min(1).max(1000),
  /** An earlier generation may have written these keys: read each first and copy only what differs. */
  recopy: z.boolean().optional(),
  /** The class's consecutive re-plans when the job was sent (absent: 0); a PLAYLIST_CHANGED it finds names this round. */
  replans: z.number().int().min(0).optional(),
  /** Times the job went back to its queue because the origin throttled it (absent: 0). */
  deferrals: z.number().int().min(0).max(1000).optional(),
  /**
   * Indexes in `files` of the files an earlier, throttled delivery copied: settled from the bucket
   * (one HEAD each, the copy's generation and checksum checked) instead of asking the origin again.
   */
  copied: z.array(z.number().int().min(0).max(999)).max(1000).optional(),
});

export type CatalogScan = z.infer<typeof CatalogScanSchema>;
export type ClassScan = z.infer<typeof ClassScanSchema>;
export type RecheckScan = z.infer<typeof RecheckScanSchema>;
export type ScanRequest = z.infer<typeof ScanRequestSchema>;
export type CrawlJob = z.infer<typeof CrawlJobSchema>;
export type TransferJob = z.infer<typeof TransferJobSchema>;
export type TransferFile = z.infer<typeof TransferFileSchema>;

/** Parses and validates a message body against a schema, or throws PoisonMessageError saying why. */
export function parseMessage<T>(schema: z.ZodType<T>, body: string, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new PoisonMessageError(`${what} message is not JSON: ${JSON.stringify(body.slice(0, 80))}`);
  }
  if (typeof json === 'object' && json !== null && 'v' in json && json.v !== MESSAGE_VERSION) {
    throw new PoisonMessageError(
      `${what} message has schema version ${JSON.stringify(json.v)}; this build reads version ${MESSAGE_VERSION}`,
    );
  }
  const res = schema.safeParse(json);
  if (!res.success) {
    const issue = res.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'message';
    throw new PoisonMessageError(`${what} message is invalid at ${where}: ${issue?.message ?? 'unknown problem'}`);
  }
  return res.data;
}
