// The lab's origin (lab/origin-server.ts) serving a directory of fixtures, for the HLS and DASH tests:
// fixed files answered first, then files from `root`, and optionally a generated one-segment media
// playlist for any path the directory lacks (a fixture's variants that are not on disk). One test
// origin server: this is only the content it serves.
import { readFileSync, statSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';
import { Readable } from 'node:stream';
import { startOriginServer, type OriginContent, type OriginServer, type Redirect } from '../../lab/origin-server.ts';

export interface DirectoryOriginOptions {
  /** Directory served at "/". */
  root?: string;
  /** Exact paths answered before the directory, with their content type (default: an HLS playlist's). */
  files?: Record<string, { body: string; contentType?: string }>;
  /** Answer a generated one-segment media playlist for any path the directory lacks (instead of 404). */
  synthetic?: boolean;
  /** Applied to every file served from `root` (e.g. to put another origin's address into a playlist). */
  rewrite?: (body: string) => string;
  /** Paths answered with a redirect (lab/origin-server.ts). */
  redirects?: Record<string, Redirect>;
}

export interface DirectoryOrigin {
  /** "http://127.0.0.1:<port>" */
  base: string;
  /** "127.0.0.1:<port>" */
  host: string;
  server: OriginServer;
  /** Requests per path (decoded, query left out), of the paths that reached the content (not redirects). */
  hits: Map<string, number>;
  /** Serves `body` at `path` from now on, before the directory. */
  put(path: string, body: string | Buffer): void;
  /** The body the origin answers for a path, without HTTP or counting; undefined for a 404. */
  body(path: string): Buffer | undefined;
  close(): Promise<void>;
}

const PLAYLIST = 'application/vnd.apple.mpegurl';

/** The generated playlist served for a missing path: one segment named after the path's last segment. */
export function syntheticPlaylist(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1) || 'index';
  return `#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n${encodeURIComponent(name)}.synthetic.ts\n#EXT-X-ENDLIST\n`;
}

/** What the directory serves, as the lab's origin reads content. Paths arrive decoded. */
function directoryContent(
  opts: DirectoryOriginOptions,
  files: Map<string, { body: string | Buffer; contentType?: string | undefined }>,
  hits: Map<string, number>,
): OriginContent & { body(path: string): Buffer | undefined } {
  const answer = (path: string): { bytes: Buffer; contentType: string } | undefined => {
    const fixed = files.get(path);
    if (fixed) return { bytes: Buffer.from(fixed.body), contentType: fixed.contentType ?? PLAYLIST };
    // "/__ext/<host>/..." stands for another host's files: never the directory's.
    if (opts.root && !path.startsWith('/__ext/')) {
      const file = join(opts.root, normalize(path));
      if (file.startsWith(opts.root + sep)) {
        try {
          if (statSync(file).isFile()) {
            const bytes = readFileSync(file);
            return {
              bytes: opts.rewrite ? Buffer.from(opts.rewrite(bytes.toString('utf8'))) : bytes,
              contentType: PLAYLIST,
            };
          }
        } catch {
          // not there: generated or 404
        }
      }
    }
    return opts.synthetic ? { bytes: Buffer.from(syntheticPlaylist(path)), contentType: PLAYLIST } : undefined;
  };
  return {
    // The lab's origin asks for a file's stat once per request that reaches the content.
    stat: (path) => {
      hits.set(path, (hits.get(path) ?? 0) + 1);
      const a = answer(path);
      return a && { size: a.bytes.length, contentType: a.contentType };
    },
    read: (path, range) => {
      const bytes = answer(path)?.bytes ?? Buffer.alloc(0);
      return Readable.from([range ? bytes.subarray(range.start, range.end + 1) : bytes]);
    },
    bytes: (path) => answer(path)?.bytes ?? Buffer.alloc(0),
    body: (path) => answer(path)?.bytes,
  };
}

/** Starts the lab's origin on 127.0.0.1 (any free port) serving `opts`; call close() when done. */
export async function startDirectoryOrigin(opts: DirectoryOriginOptions = {}): Promise<DirectoryOrigin> {
  const files = new Map<string, { body: string | Buffer; contentType?: string | undefined }>(
    Object.entries(opts.files ?? {}),
  );
  const hits = new Map<string, number>();
  const content = directoryContent(opts, files, hits);
  const server = await startOriginServer(content, opts.redirects ? { redirects: opts.redirects } : {});
  return {
    base: server.url,
    host: new URL(server.url).host,
    server,
    hits,
    put: (path, body) => void files.set(path, { body }),
    body: (path) => content.body(path),
    close: () => server.close(),
  };
}
