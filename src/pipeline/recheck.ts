import { describeError } from '../errors.ts';
import type { Origin } from '../origin/client.ts';
import { OriginError } from '../origin/client.ts';
import type { LandedFile } from '../store/ledger.ts';
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
  /** Origin requests made: conditional GETs of playlists, HEADs of other files. */
  requests: { conditional: number; head: number };
}

export interface ChangeCheckOptions {
  /** `all`: every file (a segment fixed in place changes no playlist); `playlists`: playlists only. */
  files: 'all' | 'playlists';
  concurrency: number;
  maxPlaylistBytes: number;
  retry: { attempts: number; baseDelayMs: number };
  signal?: AbortSignal;
}

/** An ETag as compared for "same representation": weak and strong forms of one tag are equal. */
const tag = (etag: string): string => etag.trim().replace(/^W\//, '');

/** A file the origin no longer serves is a change (the new plan says whether it was dropped or lost). */
const gone = (err: unknown): boolean => err instanceof OriginError && (err.status === 404 || err.status === 410);

/**
 * Asks the origin, cheaply, whether any file of a COMPLETE generation changed since it was copied:
 * each playlist by a conditional GET with the validators it had (304: unchanged; otherwise its
 * SHA-256 is compared), every other file by a HEAD compared on size and ETag (or Last-Modified).
 * Playlists go first; the check stops at the first difference.
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
          if (!res.notModified && res.sha256 !== f.sha256) note(`playlist ${f.key} changed`);
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
        note(`${f.key} is gone from the origin (${describeError(err)})`);
      }
    });
    if (out.changed) break;
  }
  return out;
}
