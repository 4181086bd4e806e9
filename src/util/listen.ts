import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts a local HTTP server listening (port 0: any free port) and returns its base URL. */
export async function listenLocal(
  server: Server,
  opts: { host?: string; port?: number } = {},
): Promise<{ url: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return { url: `http://${host}:${addr.port}`, port: addr.port };
}
