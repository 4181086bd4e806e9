// The guarded requester: the allow-list checked on every hop, the per-host gate passed, redirects
// followed by hand and bounded. Shared by the origin client and the estimate's size probe.
import { request, type Dispatcher } from 'undici';
import { OriginError } from '../../domain/ports/origin.ts';
import type { OriginGate } from '../../domain/origin/gate.ts';
import { isFetchableScheme, isHostAllowed } from '../../domain/origin/hosts.ts';
import { retryAfterOf } from './answers.ts';
import { declaredLength, headerValue } from './headers.ts';
import { networkError } from './http-errors.ts';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Checks that a URL may be fetched at all: http(s) on an allowed host. */
export function assertFetchable(target: URL, allowedHosts: readonly string[], via?: string): void {
  const viaText = via ? ` (redirected from ${via})` : '';
  if (!isFetchableScheme(target)) {
    throw new OriginError('ORIGIN_BAD_SCHEME', `refusing to fetch ${target.protocol} URL ${target.href}${viaText}`, {
      url: target.href,
      retryable: false,
    });
  }
  if (!isHostAllowed(target, allowedHosts)) {
    throw new OriginError(
      'ORIGIN_HOST_NOT_ALLOWED',
      `host "${target.host}" is not in ORIGIN_ALLOWED_HOSTS: refusing ${target.href}${viaText}`,
      {
        url: target.href,
        retryable: false,
      },
    );
  }
}

/** One request with redirects followed: the final URL and its (unread) response. */
export type GuardedRequest = (
  start: string,
  signal: AbortSignal | undefined,
  method?: 'GET' | 'HEAD',
  headers?: Record<string, string>,
) => Promise<{ url: string; res: Dispatcher.ResponseData; prepaid: number }>;

/**
 * Requests through `agent` (whose connect hook checks resolved addresses), checking the allow-list
 * on every hop and following at most `maxRedirects` redirects by hand. `beforeRequest` runs before
 * each request (the estimate counts them against its budget). Shared by the origin client and the
 * estimate's size probe, so both keep the same guards.
 */
export function guardedRequester(
  agent: Dispatcher,
  opts: {
    allowedHosts: readonly string[];
    maxRedirects: number;
    userAgent?: string;
    beforeRequest?: () => void;
    gate?: OriginGate | undefined;
  },
): GuardedRequest {
  const gate = opts.gate;
  return async (start, signal, method = 'GET', extra = {}) => {
    let current = new URL(start);
    let via: string | undefined;
    for (let hop = 0; ; hop++) {
      assertFetchable(current, opts.allowedHosts, via);
      opts.beforeRequest?.();
      const prepaid = gate ? await gate.admit(current.host, signal) : 0;
      const started = gate ? performance.now() : 0;
      let res: Dispatcher.ResponseData;
      try {
        res = await request(current, {
          dispatcher: agent,
          method,
          signal,
          headers: { 'user-agent': opts.userAgent ?? 'flants/0.1', 'accept-encoding': 'identity', ...extra },
        });
      } catch (err) {
        const failed = networkError(current.href, err);
        // An abort is this side's deadline, not the origin's trouble.
        if (!signal?.aborted)
          gate?.answered(current.host, { errorCode: failed.code, latencyMs: performance.now() - started, prepaid });
        throw failed;
      }
      let paid = 0;
      if (gate) {
        paid = gate.answered(current.host, {
          status: res.statusCode,
          retryAfterSeconds: retryAfterOf(res),
          latencyMs: performance.now() - started,
          // A HEAD's answer carries no body, whatever length it declares.
          contentLength: method === 'HEAD' ? 0 : declaredLength(res.headers),
          prepaid,
        }).prepaid;
      }
      if (!REDIRECTS.has(res.statusCode)) return { url: current.href, res, prepaid: paid };
      // Drained when small, so the connection stays reusable; closed when a redirect carries a body.
      // Stryker disable next-line ArithmeticOperator: how much is drained decides only whether the connection is reused
      await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      const location = headerValue(res.headers.location);
      if (!location)
        throw new OriginError('ORIGIN_BAD_REDIRECT', `HTTP ${res.statusCode} without Location from ${current.href}`, {
          url: current.href,
          retryable: false,
        });
      if (hop >= opts.maxRedirects) {
        throw new OriginError(
          'ORIGIN_TOO_MANY_REDIRECTS',
          `more than ${opts.maxRedirects} redirects starting at ${start}`,
          {
            url: start,
            retryable: false,
          },
        );
      }
      via = current.href;
      current = new URL(location, current);
    }
  };
}
