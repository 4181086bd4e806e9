import { createServer, type Server } from 'node:http';
import { listenLocal } from '../util/listen.ts';
import { describeError } from '../errors.ts';
import { handleDashboardRequest, type DashboardDeps } from './http.ts';

/** A local dashboard server; `listen` resolves with its URL. */
export interface DashboardServer {
  readonly server: Server;
  listen(port?: number): Promise<string>;
  close(): Promise<void>;
}

/**
 * Serves the dashboard over plain HTTP for a local CLI. It has no authentication of its own, so it
 * binds to loopback only unless the caller names another host on purpose.
 */
export function createDashboardServer(deps: DashboardDeps, opts: { host?: string } = {}): DashboardServer {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    handleDashboardRequest(
      {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        accept: req.headers.accept,
        ifNoneMatch: req.headers['if-none-match'],
      },
      deps,
    )
      .then((r) => {
        res.writeHead(r.status, r.headers);
        res.end(r.body);
      })
      .catch((err: unknown) => {
        deps.log?.error('dashboard request failed', { error: describeError(err) });
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('internal error\n');
      });
  });
  return {
    server,
    async listen(port = 0) {
      return `${(await listenLocal(server, { host, port })).url}/`;
    },
    close() {
      return new Promise((resolve, reject) => {
        if (!server.listening) return resolve();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
