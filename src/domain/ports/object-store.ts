// The destination as the pipeline sees it: the port every object store implements (src/adapters/s3 is the
// S3 one, src/adapters/memory the one unit tests use; both pass test/contracts/object-store.contract.ts).
// Neutral values only: checksums as CRC32s, the generation guard as a rule, no store's own types.
import type { Readable } from 'node:stream';
import { FlantsError } from '../../errors.ts';

export interface StoredObject {
  key: string;
  size: number;
  /** The store's tag of this version of the object (S3's ETag, unquoted); what a conditional write names. */
  etag: string | undefined;
}

/** A HEAD of one object: what the generation guard and the "same bytes already there" check decide on. */
export interface ObjectHead extends StoredObject {
  /** The plan generation that wrote it (metadata `flants-generation`), if FLAnts wrote it with one. */
  generation: number | undefined;
  /** CRC32 (base64) of the whole object, as the store vouches for it; undefined when it cannot say. */
  crc32: string | undefined;
  /** The object's user metadata (names lower case). */
  metadata: Record<string, string>;
}

export interface UploadOptions {
  contentType: string;
  signal?: AbortSignal;
  /**
   * The plan generation writing this object. With one, the write is conditional: it creates the
   * object, or replaces one written by the same or an older generation, and is refused
   * (StaleWriteError) when a newer generation's object is already there, whenever that landed.
   * When what is there holds these very bytes (same size and CRC32) nothing is written.
   */
  generation?: number;
  /** More user metadata to store with the object (the origin's validators, a playlist's digest). */
  metadata?: Record<string, string>;
  /** What the caller just read at the key (HEAD): a store may start its conditional write from it. */
  existing?: ObjectHead;
}

/** The store's own checksum of what it stored, as it reported it. */
export interface StoredChecksum {
  /** CRC32, base64; a composite one ends in "-<parts>". */
  crc32: string;
  /** A CRC32 of the parts' CRC32s (S3's COMPOSITE multipart form) rather than of the whole object. */
  composite: boolean;
}

export interface UploadResult {
  etag: string | undefined;
  /** Undefined when the store reported none (S3 always does; some local and compatible servers do not). */
  checksum: StoredChecksum | undefined;
  /**
   * Why `etag` is not an MD5 of the bytes, when the store says so (S3: "under aws:kms encryption"):
   * then only `checksum` can verify the copy. Undefined when the ETag may be an MD5.
   */
  etagNotMd5: string | undefined;
  parts: number;
  /** Extra requests the generation guard made (HEADs and repeated writes after a refusal); 0 in the common case. */
  extraRequests: number;
  /**
   * CRC32s of exactly the bytes this upload read and sent (or found already stored): of the whole
   * body, and of each part (one for a single-part write): the transfer compares `checksum` with these.
   */
  sent: { crc32: number; partCrc32s: number[] };
  /**
   * False when the key already held these very bytes (same size and CRC32), found before the write
   * (`existing`) or after a refused condition: nothing replaced it.
   */
  written: boolean;
}

/** What the pipeline needs of the destination. */
export interface ObjectStore {
  /** Where objects land (a bucket's name): what reports and verify name. */
  readonly bucket: string;
  /**
   * Streams a body (a Readable or any iterable of Buffers) into `key`, in parts of the store's part
   * size, under the generation guard (`UploadOptions.generation`). A body that throws fails the
   * upload with its error and stores nothing; a failed upload stops reading the body.
   */
  upload(key: string, body: AsyncIterable<Buffer>, opts: UploadOptions): Promise<UploadResult>;
  /**
   * Whether this store's last answers carried checksums. Until one has, callers also compute MD5s,
   * for a store that reports only ETags.
   */
  reportsChecksums(): boolean;
  /** The object at `key`, or undefined when there is none. */
  head(key: string): Promise<ObjectHead | undefined>;
  get(key: string): Promise<Readable>;
  /** Every object whose key starts with `prefix` ("" for all), in key order. */
  list(prefix: string): AsyncIterable<StoredObject>;
  /** Closes the store's own connections (a client it was given stays its owner's). */
  close(): Promise<void>;
}

/** Parts an upload keeps in flight; with the part being filled, what one upload may buffer (the transfer budgets it). */
export const UPLOAD_QUEUE_SIZE = 4;

/** The object holds a newer generation's copy: this (older) write must not replace it. */
export class StaleWriteError extends FlantsError {
  constructor(
    readonly key: string,
    /** The generation of the refused write. */
    readonly mine: number,
    /** The generation that wrote the object the store holds: what the ledger checks against its own. */
    readonly stored: number,
  ) {
    super(
      'STALE_GENERATION',
      `refusing to overwrite ${key}: it holds generation ${stored}'s copy, newer than this job's generation ${mine}`,
    );
  }
}

/** User metadata FLAnts writes, by name: every store keeps them with the object and returns them on HEAD. */
export const GENERATION_METADATA = 'flants-generation';
/** A playlist's SHA-256, of the bytes stored (the ones the transfer read and held to its plan's references). */
export const SHA256_METADATA = 'flants-sha256';
/** The origin's ETag and Last-Modified when the object was copied: a later copy asks the origin with them. */
export const SRC_ETAG_METADATA = 'flants-src-etag';
export const SRC_MODIFIED_METADATA = 'flants-src-modified';
