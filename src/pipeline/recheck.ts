import { digestOfPlaylist } from '../hls/reference-digest.ts';
import type { MpdRules } from '../dash/hosts.ts';
import { isGoneStatus } from '../domain/lifecycle/gone-at-origin.ts';
import type { LandedFile } from '../domain/ledger/records.ts';
import type { Origin } from '../domain/ports/origin.ts';
import { OriginError } from '../domain/ports/origin.ts';
import { mapLimit } from '../util/concurrency.ts';
import { withRetry } from '../util/retry.ts';

/** What a change check found about a COMPLETE generation's files at the origin. */
export interface ChangeCheck {
  changed: boolean;
  /** Files the origin was asked about. */
  checked: number;
  /** Files the check could not ask about (copied before sources were recorded): the caller compares plans instead. */
  unknown: number;
  /** The first few differences found (the check stops at the first: one is enough to copy again). */
  changes: string[];
  /**
   * Keys of files the origin no longer has (404, 410). Not a change: the generation's chunk records
   * are the proof that their verified copies are in the bucket, so they are kept and listed on the class.
   */
  gone: string[];
  /** Origin requests made: conditional GETs of playlists, HEADs of other files. */
  requests: { conditional: number; head: number };
}

export interface ChangeCheckOptions {
  /** `all`: every file (a segment fixed in place changes no playlist); `playlists`: playlists only. */
  files: 'all' | 'playlists';
  concurrency: number;
  maxPlaylistBytes: number;
  /** How the crawl read DASH manifests (hosts for the BaseURL choice, bounds). */
  dash?: MpdRules;
  /** The class's key root: a playlist's references are compared as the keys they name. */
  root: string;
  retry: { attempts: number; baseDelayMs: number };
  signal?: AbortSignal;
}

/** An ETag as compared for "same representation": weak and strong forms of one tag are equal. */
const tag = (etag: string): string => etag.trim().replace(/^W\//, '');

/**
 * Whether a playlist read again names the files its copy names (a token, comment or date that
 * changes per request is no change). One that is no longer a playlist the crawler accepts is a change.
 */
function sameReferences(text: string, finalUrl: string, f: LandedFile, root: string, dash?: MpdRules): boolean {
  try {
    return (
      digestOfPlaylist(text, { src: f.src!, finalUrl, base: f.base, vars: f.vars, root, ...(dash ? { dash } : {}) }) ===
      f.refs
    );
  } catch {
    return false;
  }
}

/** The origin no longer has the file (as opposed to a passing failure, which fails the check and is retried). */
const gone = (err: unknown): boolean => err instanceof OriginError && isGoneStatus(err.status);

/**
 * Asks the origin, cheaply, whether any file of a COMPLETE generation changed since it was copied:
 * each playlist by a conditional GET with the validators it had (304: unchanged; otherwise its
 * SHA-256, then the files it names: other bytes naming the same files are the same playlist), every
 * other file by a HEAD compared on size and ETag (or Last-Modified).
 * Playlists go first; the check stops at the first difference. A file the origin no longer has is
 * not a difference: its verified copy (what the chunk record lists) stays, and the check notes it.
 */
export async function checkAgainstOrigin(
  files: readonly LandedFile[],
  origin: Pick<Origin, 'fetchText' | 'head'>,
  opts: ChangeCheckOptions,
): Promise<ChangeCheck> {
  const out: ChangeCheck = {
    changed: false,
    checked: 0,
    unknown: 0,
    changes: [],
    gone: [],
    requests: { conditional: 0, head: 0 },
  };
  const known = files.filter((f) => f.src !== undefined);
  out.unknown = files.length - known.length;
  const playlists = known.filter((f) => f.sha256 !== undefined);
  const others = opts.files === 'all' ? known.filter((f) => f.sha256 === undefined) : [];
  const note = (what: string) => {
    out.changed = true;
    if (out.changes.length < 5) out.changes.push(what);
  };
  const retrying = <T>(fn: () => Promise<T>) =>
    withRetry(fn, {
      attempts: opts.retry.attempts,
      baseDelayMs: opts.retry.baseDelayMs,
      maxDelayMs: 5_000,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  const signal = opts.signal ? { signal: opts.signal } : {};

  for (const group of [playlists, others]) {
    await mapLimit(group, opts.concurrency, async (f) => {
      if (out.changed) return;
      out.checked++;
      try {
        if (f.sha256 !== undefined) {
          out.requests.conditional++;
          const res = await retrying(() =>
            origin.fetchText(f.src!, {
              maxBytes: opts.maxPlaylistBytes,
              ifNoneMatch: f.originEtag,
              ifModifiedSince: f.originModified,
              ...signal,
            }),
          );
          if (res.notModified || res.sha256 === f.sha256) return;
          if (f.refs === undefined || !sameReferences(res.body, res.url, f, opts.root, opts.dash))
            note(`playlist ${f.key} changed`);
          return;
        }
        out.requests.head++;
        const res = await retrying(() => origin.head(f.src!, signal));
        if (res.contentLength !== undefined && res.contentLength !== f.bytes)
          note(`${f.key} is ${res.contentLength} bytes, was ${f.bytes}`);
        else if (f.originEtag && res.etag && tag(res.etag) !== tag(f.originEtag))
          note(`${f.key} has ETag ${res.etag}, was ${f.originEtag}`);
        else if (
          !f.originEtag &&
          f.originModified &&
          res.lastModified &&
          Date.parse(res.lastModified) !== Date.parse(f.originModified)
        )
          note(`${f.key} was modified ${res.lastModified}`);
      } catch (err) {
        if (!gone(err)) throw err;
        out.gone.push(f.key);
      }
    });
    if (out.changed) break;
  }
  return out;
}
