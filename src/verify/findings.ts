/**
 * The rules of `flants verify` (docs/verify.md): what the ledger counted for a class's current
 * generation, compared with what the bucket holds under the class's root and with what the copied
 * playlists reference. Pure: no AWS, no clock. The engine (src/verify/verify-class.ts) feeds it the
 * ledger's chunk records, HEAD answers, listing pages and playlist texts.
 */

/** Every kind of finding, in the order lines and counts show them. */
export const FINDING_KINDS = [
  'missing',
  'sizeMismatch',
  'checksumMismatch',
  'ledgerBehindBucket',
  'unexpected',
  'danglingReference',
  'rangeBeyondObject',
  'playlistUnparsable',
  'changedAtOrigin',
  'goneAtOrigin',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** One difference, by key: what the ledger says and what the bucket (or a playlist, or the origin) says. */
export interface Finding {
  kind: FindingKind;
  /** The object the finding is about (for a reference: the playlist that makes it). */
  key: string;
  /** What differs, as a sentence an operator reads. */
  detail: string;
  /** For a reference: the key it resolves to. */
  target?: string;
}

/** A file the ledger counted for the current generation: what its chunk record proves landed. */
export interface CountedFile {
  key: string;
  bytes: number;
  /** S3's ETag when it was copied. */
  etag: string;
  /** S3's FULL_OBJECT CRC32 (base64) of the copy, when recorded (copies since issue 22). */
  crc32?: string | undefined;
  /** The file is a playlist (its SHA-256 was recorded): its references are what a player follows. */
  playlist: boolean;
}

/** What a HEAD (with checksum mode) says about an object. */
export interface ObjectFacts {
  size: number;
  etag: string | undefined;
  /** The object's whole CRC32 (S3's FULL_OBJECT checksum, else the one FLAnts kept in metadata). */
  crc32: string | undefined;
  /** `flants-generation` of the object, when FLAnts wrote it. */
  generation: number | undefined;
}

/**
 * Compares one counted file with the bucket's object at its key (undefined: no such object).
 * An object a newer generation than the ledger's wrote is the ledger being behind the bucket (a
 * restored table), not a tampered copy: one finding saying so, whatever else differs.
 */
export function compareObject(file: CountedFile, head: ObjectFacts | undefined, ledgerGen: number): Finding[] {
  if (!head) return [{ kind: 'missing', key: file.key, detail: `counted (${file.bytes} bytes), not in the bucket` }];
  const differs = objectDifference(file, head);
  if (head.generation !== undefined && head.generation > ledgerGen)
    return [
      {
        kind: 'ledgerBehindBucket',
        key: file.key,
        detail: `the bucket's object was written by generation ${head.generation}, the ledger is at generation ${ledgerGen}${differs ? ` (${differs.detail})` : ''}`,
      },
    ];
  return differs ? [{ kind: differs.kind, key: file.key, detail: differs.detail }] : [];
}

/** How an object differs from what was counted: size first, then CRC32, else (nothing recorded to compare) ETag. */
export function objectDifference(
  file: CountedFile,
  head: ObjectFacts,
): { kind: 'sizeMismatch' | 'checksumMismatch'; detail: string } | undefined {
  if (head.size !== file.bytes)
    return { kind: 'sizeMismatch', detail: `${head.size} bytes in the bucket, ${file.bytes} counted` };
  if (file.crc32 !== undefined && head.crc32 !== undefined) {
    if (head.crc32 !== file.crc32)
      return { kind: 'checksumMismatch', detail: `CRC32 ${head.crc32} in the bucket, ${file.crc32} counted` };
    return undefined;
  }
  if (file.etag !== '' && head.etag !== undefined && unquote(head.etag) !== unquote(file.etag))
    return {
      kind: 'checksumMismatch',
      detail: `ETag ${unquote(head.etag)} in the bucket, ${unquote(file.etag)} counted`,
    };
  return undefined;
}

const unquote = (etag: string): string => etag.replaceAll('"', '');

/**
 * Whether a playlist must be read again. One whose CRC32 is the one recorded when it was copied
 * holds the bytes the transfer held to its plan (every file it names is in the plan, so each is
 * checked by its own HEAD): it is not read. One that changed, or whose CRC32 was not recorded
 * (copied before issue 22), is read; and every playlist of a class with a finding on an object is
 * read (a truncated segment can put a byte range past its end without any playlist changing).
 */
export function mustReadPlaylist(
  file: CountedFile,
  head: ObjectFacts | undefined,
  classHasObjectFindings: boolean,
): boolean {
  if (!file.playlist || !head) return false;
  if (classHasObjectFindings) return true;
  // A CRC32 missing on the object alone differs from the recorded one: one comparison covers it.
  return file.crc32 === undefined || head.crc32 !== file.crc32;
}

/** A byte range as a playlist reference carries it (`length@offset`): where it ends, or undefined when unreadable. */
export function rangeEnd(range: string): number | undefined {
  const m = /^(\d+)@(\d+)$/.exec(range.trim());
  if (!m) return undefined;
  return Number(m[1]) + Number(m[2]);
}

/** One reference of a copied playlist, resolved to the key a player of the copy fetches (or why it cannot be). */
export type ResolvedReference =
  { uri: string; key: string; range?: string | undefined } | { uri: string; error: string };

/**
 * The findings of one copied playlist's references: each must name an object in the bucket
 * (`sizeOf` answers its size, undefined when there is none), and a byte range must end within it.
 */
export function referenceFindings(
  playlistKey: string,
  refs: readonly ResolvedReference[],
  sizeOf: (key: string) => number | undefined,
): Finding[] {
  const out: Finding[] = [];
  for (const ref of refs) {
    if ('error' in ref) {
      out.push({ kind: 'danglingReference', key: playlistKey, detail: `${ref.uri} resolves to no key: ${ref.error}` });
      continue;
    }
    const size = sizeOf(ref.key);
    if (size === undefined) {
      out.push({
        kind: 'danglingReference',
        key: playlistKey,
        target: ref.key,
        detail: `${ref.uri} names ${ref.key}, which is not in the bucket`,
      });
      continue;
    }
    if (ref.range === undefined) continue;
    const end = rangeEnd(ref.range);
    if (end === undefined || end > size)
      out.push({
        kind: 'rangeBeyondObject',
        key: playlistKey,
        target: ref.key,
        detail:
          end === undefined
            ? `byte range "${ref.range}" of ${ref.key} cannot be read`
            : `byte range ${ref.range} of ${ref.key} ends at ${end}, the object has ${size} bytes`,
      });
  }
  return out;
}

/**
 * What an object under the class root that the plan does not name is. One an earlier generation
 * of this class wrote (`flants-generation` below the ledger's) is a file the current plan no
 * longer has, kept on purpose (docs/ledger.md, "Changed classes"): not a finding. One a newer
 * generation wrote means the ledger is behind the bucket; anything else is unexpected. In a class
 * not yet COMPLETE, an object of its own generation is a file of a chunk not counted yet.
 */
export function classifyUnlisted(
  key: string,
  head: Pick<ObjectFacts, 'generation' | 'size'> | undefined,
  ledgerGen: number,
  complete = true,
): Finding | undefined {
  if (!head) return undefined; // gone between the listing and the HEAD: nothing is there
  if (head.generation !== undefined && head.generation < ledgerGen) return undefined;
  if (!complete && head.generation === ledgerGen) return undefined;
  if (head.generation !== undefined && head.generation > ledgerGen)
    return {
      kind: 'ledgerBehindBucket',
      key,
      detail: `not in the ledger's generation ${ledgerGen}, written by generation ${head.generation}`,
    };
  return {
    kind: 'unexpected',
    key,
    detail: `${head.size} bytes under the class root, not in the plan of generation ${ledgerGen}${head.generation === ledgerGen ? ' (yet written by it)' : ''}`,
  };
}

/** Counts of findings per kind (only the kinds present). */
export type FindingCounts = Partial<Record<FindingKind, number>>;

export function countFindings(findings: Iterable<Pick<Finding, 'kind'>>): FindingCounts {
  const counts: FindingCounts = {};
  for (const f of findings) counts[f.kind] = (counts[f.kind] ?? 0) + 1;
  return counts;
}

/** The one-line result of a class: `OK`, or each kind's count in FINDING_KINDS order. */
export function describeCounts(counts: FindingCounts): string {
  const parts = FINDING_KINDS.filter((k) => (counts[k] ?? 0) > 0).map((k) => `${k} ${counts[k]}`);
  return parts.length === 0 ? 'OK' : parts.join(', ');
}

/** How a class's verification ended. */
export type ClassVerdict = 'OK' | 'FINDINGS' | 'ERROR';

export function verdictOf(counts: FindingCounts, error: boolean): ClassVerdict {
  if (error) return 'ERROR';
  return Object.values(counts).some((n) => (n ?? 0) > 0) ? 'FINDINGS' : 'OK';
}

/** `flants verify`'s exit code: 0 when every class verified OK, 1 on findings, 2 when any class could not be verified. */
export function exitCodeOf(verdicts: Iterable<ClassVerdict>): 0 | 1 | 2 {
  let code: 0 | 1 | 2 = 0;
  for (const v of verdicts) {
    if (v === 'ERROR') return 2;
    if (v === 'FINDINGS') code = 1;
  }
  return code;
}

/**
 * Requests a verification makes, for `flants estimate` and the announcement before `--deep`: a
 * LIST per 1,000 keys under each class root, a HEAD per counted file, a GET per playlist read
 * (none for an untouched class whose playlists' CRC32s were recorded) and, with `--deep`, a GET per file.
 */
export function verifyRequests(
  files: number,
  opts: { deep?: boolean; playlistsRead?: number; listed?: number } = {},
): { list: number; head: number; get: number } {
  const listed = opts.listed ?? files;
  return {
    list: Math.max(1, Math.ceil(listed / 1000)),
    head: files,
    get: (opts.deep ? files : 0) + (opts.deep ? 0 : (opts.playlistsRead ?? 0)),
  };
}
