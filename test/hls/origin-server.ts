// A small HLS origin for tests: serves a directory, canned routes (redirects, errors) and, on request,
// generated playlists for paths the directory lacks. Listens on 127.0.0.1, port 0.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface CannedResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export type Route = CannedResponse | ((req: IncomingMessage, res: ServerResponse) => void);

export interface TestOriginOptions {
  /** Directory served at "/". */
  root?: string;
  /** Exact paths (query ignored) answered before the directory. */
  routes?: Record<string, Route>;
  /** Answer a generated one-segment media playlist for any path the directory lacks (instead of 404). */
  synthetic?: boolean;
  /** Applied to every file served from `root` (e.g. to put another origin's port into a playlist). */
  rewrite?: (body: string) => string;
}

export interface TestOrigin {
  /** "http://127.0.0.1:<port>" */
  base: string;
  /** "127.0.0.1:<port>" */
  host: string;
  /** Requests per path (query ignored). */
  hits: Map<string, number>;
  route(path: string, route: Route): void;
  /** What the origin answers for a path from `root` (file, generated playlist or 404), without HTTP or counting. */
  answer(path: string): Promise<CannedResponse>;
  close(): Promise<void>;
}

/** The generated playlist served for a missing path: one segment named after the path's last segment. */
export function syntheticPlaylist(path: string): string {
  const name = decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)) || 'index';
  return `#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n${encodeURIComponent(name)}.synthetic.ts\n#EXT-X-ENDLIST\n`;
}

function send(res: ServerResponse, r: CannedResponse): void {
  res.writeHead(r.status ?? 200, { 'content-type': 'application/vnd.apple.mpegurl', ...r.headers });
  res.end(r.body ?? '');
}

/** Starts the origin; call close() when done. */
export async function startTestOrigin(opts: TestOriginOptions = {}): Promise<TestOrigin> {
  const routes = new Map<string, Route>(Object.entries(opts.routes ?? {}));
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = routes.get(path);
    if (route) {
      if (typeof route === 'function') route(req, res);
      else send(res, route);
      return;
    }
    void answer(path).then((r) => send(res, r));
  });

  async function answer(path: string): Promise<CannedResponse> {
    if (opts.root && !path.startsWith('/__ext/')) {
      let rel: string;
      try {
        rel = normalize(decodeURIComponent(path));
      } catch {
        return { status: 400 };
      }
      const file = join(opts.root, rel);
      if (file.startsWith(opts.root + sep)) {
        try {
          if ((await stat(file)).isFile()) {
            const bytes = await readFile(file);
            return { body: opts.rewrite ? opts.rewrite(bytes.toString('utf8')) : bytes };
          }
        } catch {
          // fall through to synthetic or 404
        }
      }
    }
    if (opts.synthetic) return { body: syntheticPlaylist(path) };
    return { status: 404, headers: { 'content-type': 'text/html' }, body: '<html><body>404 Not Found</body></html>' };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    hits,
    route: (path, r) => void routes.set(path, r),
    answer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
