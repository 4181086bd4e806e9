/**
 * Size probes: a file's size without its body. HEAD first; where the origin refuses HEAD or sends no
 * length (signed URLs are often GET-only; some CDNs answer HEAD with chunked encoding), a GET of
 * the single byte `bytes=0-0`, whose Content-Range carries the size. The origin client's guards on
 * every redirect hop: the host allow-list, bounded redirects, and names that resolve to non-public
 * addresses refused at connect time.
 */
import { Agent, type Dispatcher } from 'undici';
import { guardedLookup, systemResolver, type Resolver } from '../adapters/origin/lookup.ts';
import { guardedRequester } from '../adapters/origin/requester.ts';
import { isPassingStatus, statusError } from '../adapters/origin/http-errors.ts';
import { OriginError } from '../domain/ports/origin.ts';

/** What a probe found: the size, or that the origin does not have the file. */
export type ProbeResult =
  { ok: true; bytes: number; via: 'head' | 'range' } | { ok: false; missing: true; status: number };

/** Probes sizes; every HTTP request it makes first calls `beforeRequest` (the estimate's budget and pacing). */
export interface SizeProbe {
  size(url: string, signal?: AbortSignal): Promise<ProbeResult>;
  close(): Promise<void>;
}

/** The probe's allow-list, redirect and timeout bounds, as the origin client's. */
export interface SizeProbeOptions {
  allowedHosts: readonly string[];
  maxRedirects: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  connections: number;
  /** Called before each request; throws to stop (budget spent). */
  beforeRequest: () => void;
  /** Name resolution (default: the system resolver), checked as the origin client checks it. */
  resolve?: Resolver;
}

function header(h: Dispatcher.ResponseData['headers'][string]): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

/** The total of a `Content-Range: bytes 0-0/12345` header; undefined for `*` or anything else. */
export function contentRangeTotal(value: string | undefined): number | undefined {
  const m = /^\s*bytes\s+(?:\d+-\d+|\*)\/(\d+)\s*$/i.exec(value ?? '');
  return m ? Number(m[1]) : undefined;
}

function lengthOf(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value.trim()) : undefined;
}

/**
 * Drops a response body: drained when small (the connection stays reusable), the connection closed
 * when an origin that ignores Range starts sending a whole file.
 */
async function discard(res: Dispatcher.ResponseData): Promise<void> {
  await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
}

/** Creates a size probe with its own connection pool. */
export function createSizeProbe(opts: SizeProbeOptions): SizeProbe {
  const agent = new Agent({
    connect: { timeout: opts.connectTimeoutMs, lookup: guardedLookup(opts.resolve ?? systemResolver) },
    headersTimeout: opts.headersTimeoutMs,
    bodyTimeout: opts.headersTimeoutMs,
    connections: opts.connections,
    keepAliveTimeout: 10_000,
  });

  // The origin client's guards on every hop; each request is counted against the estimate's budget.
  const request = guardedRequester(agent, {
    allowedHosts: opts.allowedHosts,
    maxRedirects: opts.maxRedirects,
    userAgent: 'flants/0.1 (estimate)',
    beforeRequest: opts.beforeRequest,
  });
  const send = (url: string, method: 'HEAD' | 'GET', signal: AbortSignal | undefined) =>
    request(url, signal, method, method === 'GET' ? { range: 'bytes=0-0' } : {});

  return {
    async size(url, signal) {
      const head = await send(url, 'HEAD', signal);
      await discard(head.res);
      const status = head.res.statusCode;
      if (status === 404 || status === 410) return { ok: false, missing: true, status };
      if (isPassingStatus(status)) throw statusError(head.url, status);
      const length = status === 200 ? lengthOf(header(head.res.headers['content-length'])) : undefined;
      if (length !== undefined) return { ok: true, bytes: length, via: 'head' };
      // HEAD refused (405, 501, a GET-only signature's 403) or no length: ask for one byte instead.
      const get = await send(url, 'GET', signal);
      // Never read the body: one byte when the range is honoured, the whole file when it is not.
      await discard(get.res);
      const g = get.res.statusCode;
      if (g === 404 || g === 410) return { ok: false, missing: true, status: g };
      if (g === 206) {
        const total = contentRangeTotal(header(get.res.headers['content-range']));
        if (total !== undefined) return { ok: true, bytes: total, via: 'range' };
      }
      if (g === 200) {
        const whole = lengthOf(header(get.res.headers['content-length']));
        if (whole !== undefined) return { ok: true, bytes: whole, via: 'range' };
      }
      if (g === 416) {
        // An empty file: no byte 0 to give.
        const total = contentRangeTotal(header(get.res.headers['content-range']));
        if (total === 0) return { ok: true, bytes: 0, via: 'range' };
      }
      if (g >= 200 && g < 300)
        throw new OriginError(
          'ORIGIN_NO_LENGTH',
          `origin gave no size for ${get.url} (HTTP ${g} without Content-Length or Content-Range)`,
          { url: get.url, retryable: false },
        );
      throw statusError(get.url, g);
    },
    async close() {
      await agent.close();
    },
  };
}
