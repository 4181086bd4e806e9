import { normalizePrefix } from '../domain/planning/prefix.ts';
import { FlantsError } from '../errors.ts';
import { isFetchableScheme, isHostAllowed } from '../domain/origin/hosts.ts';
import { PlaylistError } from './errors.ts';
import { fileIdentity, keyForUrl } from './keys.ts';
import { settleAll } from '../util/concurrency.ts';
import { referenceDigest } from './reference-digest.ts';
import { scanPlaylist, type PlaylistRole, type PlaylistScan } from './scan.ts';
import { isMpdText, scanMpd } from '../dash/scan.ts';
import { baseUrlRule, REFERENCES_PER_FILE } from '../dash/hosts.ts';
import { isGoneStatus } from '../domain/lifecycle/gone-at-origin.ts';
import { OriginError } from '../domain/ports/origin.ts';
import type { ClassEnumeration, FileKind, PlanOptions, PlannedFile, PlaylistFetcher } from './types.ts';

/** A playlist waiting to be fetched and scanned. */
interface PendingPlaylist {
  /** URL to fetch, as referenced (query kept). */
  src: string;
  /** Its destination key: the planned file that records its digest. */
  key: string;
  /**
   * Where the class's layout puts this playlist. Relative URIs inside it are fetched from its final URL after
   * redirects, but keyed from here: in the bucket the copy sits at this key, so that is where a player of the
   * copy resolves them.
   */
  logical: URL;
  depth: number;
  role: PlaylistRole | undefined;
  importable: ReadonlyMap<string, string> | undefined;
  referrer: string | undefined;
  /** A manifest ALSO_COPY_MANIFESTS names beside the class's own: absent at the origin, it is skipped. */
  optional?: boolean;
}

interface Fetched {
  playlist: PendingPlaylist;
  finalUrl: URL;
  body: string;
  bytes: number | undefined;
  sha256: string | undefined;
}

const DEFAULT_CONCURRENCY = 4;

function parseRoot(masterUrl: string, opts: PlanOptions): URL {
  let root: URL;
  try {
    root = new URL(masterUrl);
  } catch {
    throw new PlaylistError('BAD_URI', `master playlist URL "${masterUrl}" is not an absolute URL`, masterUrl);
  }
  if (!isFetchableScheme(root) && !(root.protocol === 'file:' && opts.allowFiles)) {
    throw new PlaylistError('BAD_URI', `master playlist URL ${root.href} must be http(s)`, root.href);
  }
  if (isFetchableScheme(root) && !isHostAllowed(root, opts.allowedHosts)) {
    throw new PlaylistError(
      'HOST_NOT_ALLOWED',
      `host "${root.host}" is not in ORIGIN_ALLOWED_HOSTS: refusing master playlist ${root.href}`,
      root.href,
    );
  }
  return root;
}

/** The state of one class's enumeration: every file found so far, by key, and the playlists still to read. */
class ClassPlan {
  readonly files = new Map<string, PlannedFile>();
  readonly growing: string[] = [];
  /** ALSO_COPY_MANIFESTS manifests the origin does not have (skipped). */
  readonly absent: string[] = [];
  /** Per key, the identity of the reference that claimed it and where it was found (for the collision message). */
  private readonly claims = new Map<string, { identity: string; logical: string; referrer: string }>();
  private readonly queued = new Set<string>();
  private next: PendingPlaylist[] = [];
  /** Playlist bytes fetched so far, against HLS_MAX_CRAWL_BYTES. */
  private fetchedBytes = 0;

  constructor(
    readonly root: URL,
    private readonly prefix: string,
    private readonly opts: PlanOptions,
  ) {}

  /** Whether enumeration follows a URL at all: http(s), or file: when planning from a local file. */
  followable(url: URL): boolean {
    if (url.protocol !== 'file:' || this.root.protocol !== 'file:') return isFetchableScheme(url);
    // "//host/x" under a local master becomes file://host/x: not a local file, and no http URL either.
    if (url.host !== '')
      throw new PlaylistError(
        'BAD_URI',
        `cannot resolve ${url.href} under a local master playlist; serve the class over http(s) instead`,
        url.href,
      );
    return true;
  }

  assertAllowed(url: URL, referrer: string): void {
    if (isFetchableScheme(url) && !isHostAllowed(url, this.opts.allowedHosts)) {
      throw new PlaylistError(
        'HOST_NOT_ALLOWED',
        `host "${url.host}" is not in ORIGIN_ALLOWED_HOSTS: refusing ${url.href} (referenced by ${referrer})`,
        url.href,
      );
    }
  }

  /** Records a file under its key (first src wins) and returns the entry now holding that key. */
  addFile(src: string, logical: URL, kind: FileKind, referrer: string): PlannedFile {
    let key: string;
    try {
      key = keyForUrl(logical, this.root, this.prefix);
    } catch (err) {
      if (err instanceof PlaylistError && referrer !== 'the class')
        throw new PlaylistError(err.code, `${err.message} (referenced by ${referrer})`, err.url);
      throw err;
    }
    const existing = this.files.get(key);
    const claim = this.claims.get(key);
    if (claim && claim.identity !== fileIdentity(logical)) {
      // Never silent: two different files cannot share one object.
      throw new PlaylistError(
        'KEY_COLLISION',
        `two different URLs map to the key ${key}: ${claim.logical} (referenced by ${claim.referrer}) and ${logical.href} (referenced by ${referrer}); refusing to let one overwrite the other`,
        logical.href,
      );
    }
    if (existing) {
      // A URI read as a playlist anywhere must be fetched and copied as one.
      if (kind === 'playlist') existing.kind = 'playlist';
      return existing;
    }
    const max = this.opts.limits.maxFiles;
    if (this.files.size >= max) {
      throw new PlaylistError(
        'TOO_MANY_FILES',
        `class ${this.root.href} has more than ${max} files (HLS_MAX_FILES); stopped at ${src} in ${referrer}`,
        src,
      );
    }
    const file: PlannedFile = { src, key, kind };
    this.files.set(key, file);
    this.claims.set(key, { identity: fileIdentity(logical), logical: logical.href, referrer });
    return file;
  }

  /** Queues a playlist for the next round unless its key was queued before (so loops end). */
  enqueue(file: PlannedFile, p: Omit<PendingPlaylist, 'src' | 'key'>): void {
    if (this.queued.has(file.key)) return;
    const { maxDepth, maxPlaylists } = this.opts.limits;
    if (p.depth > maxDepth) {
      throw new PlaylistError(
        'TOO_DEEP',
        `playlist ${file.src} is nested ${p.depth} levels below ${this.root.href}, deeper than ${maxDepth} (HLS_MAX_DEPTH); referenced by ${p.referrer}`,
        file.src,
      );
    }
    if (this.queued.size >= maxPlaylists) {
      throw new PlaylistError(
        'TOO_MANY_PLAYLISTS',
        `class ${this.root.href} references more than ${maxPlaylists} playlists (HLS_MAX_PLAYLISTS); stopped at ${file.src} in ${p.referrer ?? 'the class'}`,
        file.src,
      );
    }
    this.queued.add(file.key);
    this.next.push({ ...p, src: file.src, key: file.key });
  }

  /** Forgets a manifest ALSO_COPY_MANIFESTS named that the origin does not have. */
  dropAbsent(p: PendingPlaylist): void {
    this.files.delete(p.key);
    this.claims.delete(p.key);
    this.absent.push(p.src);
  }

  takeRound(): PendingPlaylist[] {
    const round = this.next;
    this.next = [];
    return round;
  }

  /** Adds what one fetched playlist references, in document order. */
  absorb({ playlist: p, finalUrl, body, bytes, sha256 }: Fetched): void {
    const max = this.opts.limits.maxPlaylistBytes;
    const size = Buffer.byteLength(body, 'utf8');
    this.fetchedBytes += size;
    const budget = this.opts.limits.maxCrawlBytes;
    if (budget !== undefined && this.fetchedBytes > budget) {
      throw new PlaylistError(
        'CRAWL_TOO_LARGE',
        `class ${this.root.href} fetched more than ${budget} bytes of playlists (HLS_MAX_CRAWL_BYTES); stopped at ${finalUrl.href}`,
        finalUrl.href,
      );
    }
    if (size > max) {
      throw new PlaylistError(
        'PLAYLIST_TOO_LARGE',
        `playlist ${finalUrl.href} is ${size} bytes, over the ${max}-byte cap (HLS_MAX_PLAYLIST_BYTES)`,
        finalUrl.href,
      );
    }
    const redirected = finalUrl.href !== p.src;
    // Differs after a redirect here or above: then keys of what it references resolve from p.logical.
    const shifted = finalUrl.href !== p.logical.href;
    // A DASH manifest names files from its BaseURLs: scanned again from where the layout puts it when that differs.
    const mpd = isMpdText(body);
    const dash = (baseUrl: URL): PlaylistScan =>
      scanMpd(body, {
        baseUrl,
        allowHost: baseUrlRule(this.opts.allowedHosts),
        ...(this.opts.limits.maxPeriods !== undefined ? { maxPeriods: this.opts.limits.maxPeriods } : {}),
        ...(this.opts.limits.maxSegments !== undefined ? { maxSegments: this.opts.limits.maxSegments } : {}),
        maxReferences: this.opts.limits.maxFiles * REFERENCES_PER_FILE,
      });
    const scan = mpd
      ? dash(finalUrl)
      : scanPlaylist(body, {
          baseUrl: finalUrl,
          ...(redirected ? { requestUrl: new URL(p.src) } : {}),
          ...(p.role ? { role: p.role } : {}),
          ...(p.importable ? { importable: p.importable } : {}),
        });
    const keyed = mpd && shifted ? dash(p.logical) : undefined;
    const where = finalUrl.href;
    const file = this.files.get(p.key);
    if (file && sha256 !== undefined) {
      file.bytes = bytes ?? size;
      file.sha256 = sha256;
    }
    if (scan.type === 'media' && !scan.ended) this.growing.push(where);
    for (const [i, ref] of scan.references.entries()) {
      if (!this.followable(ref.url)) continue;
      this.assertAllowed(ref.url, where);
      const logical = keyed ? keyed.references[i]!.url : shifted ? new URL(ref.uri, p.logical) : ref.url;
      const file = this.addFile(ref.url.href, logical, ref.kind, where);
      const link = ref.playlist;
      if (!link) continue;
      this.enqueue(file, {
        logical,
        depth: link.sameLevel ? p.depth : p.depth + 1,
        role: link.role,
        importable: link.newPresentation ? undefined : scan.type === 'multivariant' ? scan.variables : p.importable,
        referrer: where,
      });
    }
    // After the references were added: a reference no key can hold is reported there, naming its playlist.
    if (file) {
      file.refs = referenceDigest(keyed ?? scan, { keyBase: p.logical, masterUrl: this.root, root: this.prefix });
      if (p.logical.href !== p.src) file.base = p.logical.href;
      if (scan.imported.size > 0) file.vars = Object.fromEntries(scan.imported);
    }
  }
}

/** The origin (or the local tree) says it has no such file: only then is an optional manifest skipped. */
function isAbsent(err: unknown): boolean {
  return (
    (err instanceof OriginError && isGoneStatus(err.status)) ||
    (err instanceof PlaylistError && err.code === 'FILE_NOT_FOUND')
  );
}

async function fetchPlaylist(
  p: PendingPlaylist,
  fetcher: PlaylistFetcher,
  plan: ClassPlan,
  opts: PlanOptions,
): Promise<Fetched | undefined> {
  let res: Awaited<ReturnType<PlaylistFetcher['fetchText']>>;
  try {
    res = await fetcher.fetchText(p.src, {
      maxBytes: opts.limits.maxPlaylistBytes,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    if (p.optional && isAbsent(err)) return undefined;
    throw err;
  }
  const finalUrl = new URL(res.url);
  // The origin client already checks every redirect hop; this keeps any other fetcher honest too.
  if (!plan.followable(finalUrl))
    throw new PlaylistError(
      'BAD_URI',
      `playlist ${p.src} ended at ${finalUrl.href}, which is not http(s)`,
      finalUrl.href,
    );
  plan.assertAllowed(finalUrl, `a redirect from ${p.src}`);
  return { playlist: p, finalUrl, body: res.body, bytes: res.bytes, sha256: res.sha256 };
}

/**
 * Lists every file of the class whose master playlist is `masterUrl`, playlists included: deduplicated by key
 * (first src wins), sorted by key. Throws PlaylistError for input it refuses; fetch errors propagate unchanged.
 */
export async function planClass(
  masterUrl: string,
  fetcher: PlaylistFetcher,
  opts: PlanOptions,
): Promise<PlannedFile[]> {
  return (await enumerateClass(masterUrl, fetcher, opts)).files;
}

/** Like `planClass`, and also says which media playlists may still grow (the crawler waits for those). */
export async function enumerateClass(
  masterUrl: string,
  fetcher: PlaylistFetcher,
  opts: PlanOptions,
): Promise<ClassEnumeration> {
  try {
    return await enumerate(masterUrl, fetcher, opts);
  } catch (err) {
    // Whatever the fetch was doing when the deadline struck, the reason is the deadline.
    if (opts.signal?.aborted) {
      const why =
        opts.signal.reason instanceof Error ? opts.signal.reason.message : String(opts.signal.reason ?? 'aborted');
      throw new FlantsError('CRAWL_DEADLINE', `crawl of ${masterUrl} stopped before it finished: ${why}`, {
        retryable: true,
        cause: err,
      });
    }
    throw err;
  }
}

async function enumerate(masterUrl: string, fetcher: PlaylistFetcher, opts: PlanOptions): Promise<ClassEnumeration> {
  const root = parseRoot(masterUrl, opts);
  const plan = new ClassPlan(root, normalizePrefix(opts.destPrefix), opts);
  const rootFile = plan.addFile(root.href, root, 'playlist', 'the class');
  plan.enqueue(rootFile, { logical: root, depth: 0, role: undefined, importable: undefined, referrer: undefined });
  // Another manifest of the same class beside this one (an .mpd beside the master playlist): copied too when there.
  for (const name of opts.limits.alsoCopyManifests ?? []) {
    const also = new URL(name, root);
    if (also.href === root.href) continue;
    plan.assertAllowed(also, 'ALSO_COPY_MANIFESTS');
    const file = plan.addFile(also.href, also, 'playlist', 'ALSO_COPY_MANIFESTS');
    plan.enqueue(file, {
      logical: also,
      depth: 0,
      role: undefined,
      importable: undefined,
      referrer: 'ALSO_COPY_MANIFESTS',
      optional: true,
    });
  }
  // Breadth-first, one round per level: a round's playlists are fetched concurrently but absorbed in order, so
  // the plan (which src wins a key, which error is reported) does not depend on network timing.
  for (let round = plan.takeRound(); round.length > 0; round = plan.takeRound()) {
    opts.signal?.throwIfAborted();
    const results = await settleAll(round, opts.concurrency ?? DEFAULT_CONCURRENCY, (p) =>
      fetchPlaylist(p, fetcher, plan, opts),
    );
    results.forEach((r, i) => {
      if (!r.ok) throw r.error;
      if (r.value) plan.absorb(r.value);
      else plan.dropAbsent(round[i]!);
    });
  }
  const files = [...plan.files.values()]
    .map((f) => ({ ...f }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { files, growing: [...plan.growing].sort(), ...(plan.absent.length ? { absent: [...plan.absent] } : {}) };
}
