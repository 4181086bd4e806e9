/**
 * When a file the origin no longer has (404, 410) still counts as copied. Pure: the transfer and
 * the change check ask it with what they read; docs/ledger.md ("Gone at the origin") states it.
 *
 * An origin purge (common after a migration) must not unmake a finished copy: a file gone at the
 * origin whose verified copy is in the bucket is kept and listed on the class (`goneAtOrigin`), not
 * failed. A file gone at the origin that the bucket does not hold, verified, is lost: a failure.
 */

/** HTTP statuses that say the origin no longer has the file (as opposed to a passing failure). */
export const GONE_STATUSES: readonly number[] = [404, 410];

/** True for an origin answer that says the file is gone for good. */
export function isGoneStatus(status: number | undefined): boolean {
  return status !== undefined && GONE_STATUSES.includes(status);
}

/** What the bucket holds at the file's key, as a HEAD reads it. */
export interface HeldCopy {
  size: number;
  /** The plan generation that wrote it (`flants-generation`); only FLAnts' own writes carry one. */
  generation: number | undefined;
  /** CRC32 of the whole object (S3's own, or the one FLAnts stored with a single-request write). */
  crc32: string | undefined;
  /** A playlist's SHA-256 as the crawler enumerated it when it was copied (`flants-sha256`). */
  sha256: string | undefined;
}

/** What the job knows of the file it could not fetch. */
export interface WantedFile {
  /** The generation copying it now: a copy written by it or an earlier one can be kept. */
  generation: number;
  /** For a playlist: the bytes the crawler enumerated; the copy kept must be those very bytes. */
  sha256?: string | undefined;
  bytes?: number | undefined;
}

export type GoneVerdict =
  | { keep: true }
  /** `why` completes "gone at the origin and …" in the failure's reason. */
  | { keep: false; why: string };

/**
 * Whether a file gone at the origin is kept: the bucket holds a copy FLAnts wrote and verified (its
 * generation metadata, at most the job's, and a whole-object checksum S3 checked on arrival), and,
 * for a playlist, the very bytes the crawler enumerated. A copy of a newer generation is not this
 * job's to judge (the write guard calls that stale).
 */
export function judgeGoneFile(held: HeldCopy | undefined, wanted: WantedFile): GoneVerdict {
  if (!held) return { keep: false, why: 'the bucket holds no copy of it' };
  if (held.generation === undefined)
    return { keep: false, why: 'the object in the bucket was not written by FLAnts (no generation metadata)' };
  if (held.generation > wanted.generation)
    return { keep: false, why: `the bucket holds generation ${held.generation}'s copy, newer than this job's` };
  if (held.crc32 === undefined) return { keep: false, why: 'the copy in the bucket has no checksum to vouch for it' };
  if (wanted.sha256 !== undefined && held.sha256 !== wanted.sha256)
    return { keep: false, why: 'the bucket holds another version of this playlist' };
  if (wanted.bytes !== undefined && held.size !== wanted.bytes)
    return { keep: false, why: `the copy in the bucket is ${held.size} bytes, not ${wanted.bytes}` };
  return { keep: true };
}
