/**
 * `flants verify` for one class (docs/verify.md): reads the ledger's chunk records of the current
 * generation page by page, the bucket's listing under the class root page by page, a HEAD (with
 * checksum mode) per counted file, and only the playlists that must be read again; never writes.
 * The rules are src/verify/findings.ts; this is their adapter to the ledger, the bucket and the origin.
 */
import { crc32 } from 'node:zlib';
import type { Readable } from 'node:stream';
import { isMpdText } from '../dash/scan.ts';
import { describeError } from '../errors.ts';
import { classRoot, keyForUrl } from '../hls/keys.ts';
import { scanPlaylist } from '../hls/scan.ts';
import { isGoneStatus } from '../domain/lifecycle/gone-at-origin.ts';
import type { ClassRecord, LandedFile } from '../domain/ledger/records.ts';
import type { ClassLedger } from '../domain/ports/ledger.ts';
import { OriginError, type Origin } from '../domain/ports/origin.ts';
import type { ObjectHead, ObjectStore } from '../domain/ports/object-store.ts';
import { crc32Base64 } from '../util/crc.ts';
import { mapLimit } from '../util/concurrency.ts';
import {
  classifyUnlisted,
  compareObject,
  describeCounts,
  mustReadPlaylist,
  referenceFindings,
  verdictOf,
  type ClassVerdict,
  type CountedFile,
  type Finding,
  type FindingCounts,
  type ResolvedReference,
} from './findings.ts';

/** What verification reads; nothing here writes to the bucket. */
export type VerifyStore = Pick<ObjectStore, 'head' | 'get' | 'list'>;
export type VerifyLedger = Pick<ClassLedger, 'getClass' | 'eachChunk'>;

export interface VerifyOptions {
  destPrefix: string;
  /** Re-read every object and recompute its CRC32 (a GET per file). */
  deep?: boolean;
  /** Also ask the origin (conditional GET of playlists, HEAD of other files) whether each file still matches. */
  origin?: Pick<Origin, 'fetchText' | 'head'>;
  /** Requests at once (HEADs, GETs). */
  concurrency?: number;
  /** A playlist larger than this is not read (HLS_MAX_PLAYLIST_BYTES). */
  maxPlaylistBytes: number;
  /** Objects under the root the plan does not name that are looked at more closely (HEAD); the rest are counted unexpected unseen. */
  maxUnlistedHeads?: number;
  /** Each finding as it is made (every one: the result keeps counts and the first `keepFindings`). */
  onFinding?: (f: Finding) => void;
  /** Counted files checked so far (for progress). */
  onObject?: () => void;
  /** Findings kept on the result (default 1,000); counts are always exact. */
  keepFindings?: number;
}

/** What the bucket's requests and the origin's were, for the price and the proof of "a HEAD per file". */
export interface VerifyRequests {
  list: number;
  head: number;
  get: number;
  origin: number;
}

export interface ClassVerification {
  classId: string;
  gen: number;
  status: string | undefined;
  verdict: ClassVerdict;
  /** Counted files compared. */
  files: number;
  counts: FindingCounts;
  /** One line: `OK`, or each kind's count; for an error, what stopped it. */
  result: string;
  findings: Finding[];
  /** Findings made but not kept in `findings` (see keepFindings). */
  findingsNotListed: number;
  playlistsRead: number;
  requests: VerifyRequests;
  error?: string;
}

/** One counted file as the comparison keeps it: what was counted, and what the bucket answered. */
interface Entry extends CountedFile {
  listed: boolean;
  /** The object's size once HEAD answered; -1 when there is no object. */
  size: number;
  headCrc?: string | undefined;
  vars?: Record<string, string> | undefined;
  /** Only with --origin: what asking the origin needs. */
  src?: LandedFile | undefined;
}

const isPlaylistKey = (key: string): boolean => /\.m3u8?$/i.test(key);

/**
 * Where a copied playlist sits, as a URL a player of the copy resolves its references against: the
 * class root stands for the origin's root (the key's first segment is the origin host).
 */
function copyBase(key: string, root: string): URL | undefined {
  const [host, ...path] = key.slice(root.length).split('/');
  if (!host || path.length === 0) return undefined;
  return new URL(`https://${host}/${path.map(encodeURIComponent).join('/')}`);
}

/** A copied playlist's references, each resolved to the key a player of the copy fetches; throws for text that is not a playlist. */
export function resolveCopiedReferences(
  key: string,
  text: string,
  root: string,
  vars?: Record<string, string>,
): ResolvedReference[] {
  const base = copyBase(key, root);
  if (!base) throw new Error(`${key} is not laid out as <class>/<host>/<path>`);
  const scan = scanPlaylist(text, { baseUrl: base, ...(vars ? { importable: new Map(Object.entries(vars)) } : {}) });
  const out: ResolvedReference[] = [];
  for (const ref of scan.references) {
    // What the crawler does not follow is not copied: data:, skd: and the like name no object.
    if (ref.url.protocol !== 'http:' && ref.url.protocol !== 'https:') continue;
    try {
      out.push({ uri: ref.uri, key: keyForUrl(ref.url, base, root), range: ref.range });
    } catch (err) {
      out.push({ uri: ref.uri, error: describeError(err) });
    }
  }
  return out;
}

async function readCapped(body: Readable, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    n += (c as Buffer).length;
    if (n > max) {
      body.destroy();
      return undefined;
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Verifies one class against the bucket; never throws for what it finds (a failure to run is `verdict: 'ERROR'`). */
export async function verifyClass(
  classId: string,
  ledger: VerifyLedger,
  store: VerifyStore,
  opts: VerifyOptions,
  known?: ClassRecord,
): Promise<ClassVerification> {
  const requests: VerifyRequests = { list: 0, head: 0, get: 0, origin: 0 };
  const keep = opts.keepFindings ?? 1000;
  const findings: Finding[] = [];
  let notListed = 0;
  const counts: FindingCounts = {};
  const note = (f: Finding) => {
    counts[f.kind] = (counts[f.kind] ?? 0) + 1;
    opts.onFinding?.(f);
    if (findings.length < keep) findings.push(f);
    else notListed++;
  };
  const out = (
    record: ClassRecord | undefined,
    files: number,
    playlistsRead: number,
    error?: string,
  ): ClassVerification => ({
    classId,
    gen: record?.gen ?? 0,
    status: record?.status,
    verdict: verdictOf(counts, error !== undefined),
    files,
    counts,
    result: error !== undefined ? `could not verify: ${error}` : describeCounts(counts),
    findings,
    findingsNotListed: notListed,
    playlistsRead,
    requests,
    ...(error !== undefined ? { error } : {}),
  });
  let record: ClassRecord | undefined;
  try {
    record = known ?? (await ledger.getClass(classId));
    if (!record) return out(undefined, 0, 0, `class ${classId} is not in the ledger`);
    const gen = record.gen ?? 0;
    if (gen === 0) return out(record, 0, 0, `class ${classId} has no plan yet (status ${record.status})`);
    const root = classRoot(opts.destPrefix, classId);
    const concurrency = opts.concurrency ?? 16;

    // 1. What the ledger counted: one entry per file, and nothing else, is what the comparison holds.
    const expected = new Map<string, Entry>();
    for await (const c of ledger.eachChunk(classId, gen)) {
      for (const f of c.files)
        expected.set(f.key, {
          key: f.key,
          bytes: f.bytes,
          etag: f.etag,
          crc32: f.crc32,
          playlist: f.sha256 !== undefined || isPlaylistKey(f.key),
          listed: false,
          size: -1,
          ...(f.vars ? { vars: f.vars } : {}),
          ...(opts.origin && f.src ? { src: f } : {}),
        });
    }

    // 2. The bucket's listing, a page at a time: each key is marked on its entry or kept as unlisted (bounded).
    const unlisted = new Map<string, number>();
    let unlistedUnseen = 0;
    const maxUnlisted = opts.maxUnlistedHeads ?? 10_000;
    let listedKeys = 0;
    for await (const o of store.list(root)) {
      if (listedKeys++ % 1000 === 0) requests.list++;
      const e = expected.get(o.key);
      if (e) e.listed = true;
      else if (unlisted.size < maxUnlisted) unlisted.set(o.key, o.size);
      else unlistedUnseen++;
    }
    if (listedKeys === 0) requests.list = 1;

    // 3. A HEAD per counted file the listing has; one it does not have is missing without a request.
    const entries = [...expected.values()];
    const heads = new Map<string, ObjectHead>();
    const objectFindings: Finding[] = [];
    await mapLimit(entries, concurrency, async (e) => {
      let head: ObjectHead | undefined;
      if (e.listed) {
        requests.head++;
        head = await store.head(e.key);
      }
      if (head) {
        e.size = head.size;
        e.headCrc = head.crc32;
        if (e.playlist) heads.set(e.key, head);
      }
      for (const f of compareObject(e, head, gen)) {
        objectFindings.push(f);
        note(f);
      }
      opts.onObject?.();
    });

    // 4. Objects under the root the plan does not name: a HEAD each says whose they are.
    await mapLimit([...unlisted.keys()], concurrency, async (key) => {
      requests.head++;
      const head = await store.head(key);
      const f = classifyUnlisted(key, head, gen, record!.status === 'COMPLETE');
      if (f) note(f);
      if (!head) unlisted.delete(key);
    });
    for (let i = 0; i < unlistedUnseen; i++)
      note({ kind: 'unexpected', key: '(more)', detail: `more objects under ${root} than verify looks at closely` });

    // 5. Playability: the playlists that must be read again (changed, unrecorded, or the class has findings).
    const sizeOf = (key: string): number | undefined => {
      const e = expected.get(key);
      if (e) return e.size >= 0 ? e.size : undefined;
      return unlisted.get(key);
    };
    const hasObjectFindings = objectFindings.length > 0;
    const toRead = opts.deep ? [] : entries.filter((e) => mustReadPlaylist(e, heads.get(e.key), hasObjectFindings));
    let playlistsRead = 0;
    const checkPlaylist = (e: Entry, bytes: Buffer) => {
      playlistsRead++;
      // A DASH manifest's own size and CRC32 are checked like any file's; its references are not resolved here yet.
      if (isMpdText(bytes.toString('utf8'))) return;
      let refs: ResolvedReference[];
      try {
        refs = resolveCopiedReferences(e.key, bytes.toString('utf8'), root, e.vars);
      } catch (err) {
        note({
          kind: 'playlistUnparsable',
          key: e.key,
          detail: `no longer a playlist FLAnts reads: ${describeError(err)}`,
        });
        return;
      }
      for (const f of referenceFindings(e.key, refs, sizeOf)) note(f);
    };
    await mapLimit(toRead, Math.min(concurrency, 8), async (e) => {
      requests.get++;
      const bytes = await readCapped(await store.get(e.key), opts.maxPlaylistBytes);
      if (!bytes)
        return note({
          kind: 'playlistUnparsable',
          key: e.key,
          detail: `larger than HLS_MAX_PLAYLIST_BYTES (${opts.maxPlaylistBytes})`,
        });
      checkPlaylist(e, bytes);
    });

    // 6. --deep: every object read again and its CRC32 recomputed (playlists are also checked from these bytes).
    if (opts.deep) {
      await mapLimit(
        entries.filter((e) => e.size >= 0),
        concurrency,
        async (e) => {
          requests.get++;
          const body = await store.get(e.key);
          let crc = 0;
          let n = 0;
          const keepBytes = e.playlist && e.size <= opts.maxPlaylistBytes;
          const chunks: Buffer[] = [];
          for await (const c of body) {
            crc = crc32(c as Buffer, crc);
            n += (c as Buffer).length;
            if (keepBytes) chunks.push(c as Buffer);
          }
          const read = crc32Base64(crc);
          const against = e.crc32 ?? e.headCrc;
          if (n !== e.size || (against !== undefined && read !== against))
            note({
              kind: 'checksumMismatch',
              key: e.key,
              detail: `read again: ${n} bytes with CRC32 ${read}; ${e.crc32 ? 'counted' : 'S3 reports'} ${e.size} bytes${against ? ` with CRC32 ${against}` : ''}`,
            });
          if (e.playlist) checkPlaylist(e, Buffer.concat(chunks));
        },
      );
    }

    // 7. --origin: whether the origin still serves what was copied.
    if (opts.origin) await askOrigin(entries, opts.origin, opts, requests, note);

    return out(record, entries.length, playlistsRead);
  } catch (err) {
    return out(record, 0, 0, describeError(err));
  }
}

const tag = (etag: string): string => etag.trim().replace(/^W\//, '');

async function askOrigin(
  entries: readonly Entry[],
  origin: Pick<Origin, 'fetchText' | 'head'>,
  opts: VerifyOptions,
  requests: VerifyRequests,
  note: (f: Finding) => void,
): Promise<void> {
  await mapLimit(
    entries.filter((e) => e.src?.src !== undefined),
    Math.min(opts.concurrency ?? 16, 8),
    async (e) => {
      const f = e.src!;
      requests.origin++;
      try {
        if (f.sha256 !== undefined) {
          const res = await origin.fetchText(f.src!, {
            maxBytes: opts.maxPlaylistBytes,
            ifNoneMatch: f.originEtag,
            ifModifiedSince: f.originModified,
          });
          if (!res.notModified && res.sha256 !== f.sha256)
            note({ kind: 'changedAtOrigin', key: f.key, detail: `the origin serves other bytes at ${f.src}` });
          return;
        }
        const res = await origin.head(f.src!);
        if (res.contentLength !== undefined && res.contentLength !== f.bytes)
          note({
            kind: 'changedAtOrigin',
            key: f.key,
            detail: `${res.contentLength} bytes at the origin, ${f.bytes} copied`,
          });
        else if (f.originEtag && res.etag && tag(res.etag) !== tag(f.originEtag))
          note({
            kind: 'changedAtOrigin',
            key: f.key,
            detail: `ETag ${res.etag} at the origin, ${f.originEtag} copied`,
          });
      } catch (err) {
        if (err instanceof OriginError && isGoneStatus(err.status))
          note({ kind: 'goneAtOrigin', key: f.key, detail: `the origin answers ${err.status} for ${f.src}` });
        else throw err;
      }
    },
  );
}
