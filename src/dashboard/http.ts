import { createHash } from 'node:crypto';
import { describeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ClassStatus } from '../domain/ledger/records.ts';
import { clientScript } from './client.ts';
import { renderHtml, renderJson } from './render.ts';
import {
  collectFailures,
  collectSnapshot,
  decodeCursor,
  encodeCursor,
  STATUS_ORDER,
  type DashboardSnapshot,
  type DashboardSources,
} from './snapshot.ts';

/** A request as both the Lambda handler and the local server see it. */
export interface DashboardRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  accept?: string | undefined;
  /** The If-None-Match header: a polling page's last ETag. */
  ifNoneMatch?: string | undefined;
}

export interface DashboardResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface DashboardDeps extends DashboardSources {
  log?: Logger;
  now?: () => Date;
}

const MAX_LIMIT = 5000;
/**
 * Lambda refuses a response payload over 6 MB (the JSON of statusCode, headers and body, where the
 * body's own quotes are escaped again). Pages are cut to stay well below it; `next` continues.
 */
export const MAX_RESPONSE_BYTES = 5 * 1024 * 1024;

/** Bytes of the response as Lambda serialises it. */
export function responseBytes(r: DashboardResponse): number {
  return Buffer.byteLength(JSON.stringify({ statusCode: r.status, headers: r.headers, body: r.body }), 'utf8');
}

/** The same page with only its first `keep` rows; the rest are left for the next page. */
function firstRows(s: DashboardSnapshot, keep: number): DashboardSnapshot {
  const classes = s.classes.slice(0, keep);
  return {
    ...s,
    classes,
    omitted: s.omitted + (s.classes.length - classes.length),
    next: encodeCursor(classes.at(-1)!),
  };
}

// One script, the page's own (allowed by its hash, so nothing injected can run), which may only
// fetch from this origin; no external resources, never framed, never cached: the page shows internal state.
// Made on first use: from the sources, the script's hash needs its bundle (client.ts).
let madeHeaders: Record<string, string> | undefined;
function securityHeaders(): Record<string, string> {
  madeHeaders ??= {
    'content-security-policy': `default-src 'none'; script-src '${clientScript().hash}'; connect-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
  return madeHeaders;
}

function reply(status: number, type: string, body: string, extra: Record<string, string> = {}): DashboardResponse {
  return { status, headers: { 'content-type': `${type}; charset=utf-8`, ...securityHeaders(), ...extra }, body };
}

function problem(
  status: number,
  message: string,
  json: boolean,
  extra: Record<string, string> = {},
): DashboardResponse {
  return json
    ? reply(status, 'application/json', `${JSON.stringify({ error: message })}\n`, extra)
    : reply(status, 'text/plain', `${message}\n`, extra);
}

/** A weak ETag of a JSON page: its content without the moment it was read. */
function etagOf(s: DashboardSnapshot, body: string): string {
  return `W/"${createHash('sha256').update(body.replaceAll(s.generatedAt, '')).digest('base64url').slice(0, 27)}"`;
}

/** True when an If-None-Match header names this ETag (or `*`). */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag.replace(/^W\//, '');
  });
}

/** A class id as catalogs have them (ObjectId hex, or a string id): bounded, no control characters. */
const CLASS_ID = /^\P{Cc}{1,512}$/u;

/**
 * Serves `/` (HTML) and `/status.json` (JSON); `?status=FAILED` filters, `?limit=N` caps the rows,
 * `?cursor=` (a page's `next`) continues after it. A page is cut short, with `next` set, whenever
 * its rows would not fit in a Lambda response. status.json carries an ETag (answering 304 to a
 * matching If-None-Match), and `status.json?class=<id>` lists that class's failed files.
 */
export async function handleDashboardRequest(req: DashboardRequest, deps: DashboardDeps): Promise<DashboardResponse> {
  const path = req.path.replace(/\/+$/, '') || '/';
  const wantsJson =
    path === '/status.json' || req.query.get('format') === 'json' || /^application\/json\b/.test(req.accept ?? '');
  if (path !== '/' && path !== '/status.json') return problem(404, 'not found: try / or /status.json', wantsJson);
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return problem(405, 'method not allowed', wantsJson, { allow: 'GET, HEAD' });

  const statusParam = req.query.get('status')?.toUpperCase();
  if (statusParam && !STATUS_ORDER.includes(statusParam as ClassStatus)) {
    return problem(400, `status must be one of ${STATUS_ORDER.join(', ')}`, wantsJson);
  }
  const limitParam = req.query.get('limit');
  const limit = limitParam === null ? undefined : Number(limitParam);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0 || limit > MAX_LIMIT)) {
    return problem(400, `limit must be a whole number from 0 to ${MAX_LIMIT}`, wantsJson);
  }

  const classParam = req.query.get('class');
  if (classParam !== null) {
    if (!CLASS_ID.test(classParam)) return problem(400, 'class must be a class id', true);
    try {
      return reply(200, 'application/json', `${JSON.stringify(await collectFailures(deps, classParam))}\n`);
    } catch (err) {
      deps.log?.error('dashboard could not read the failures', { error: describeError(err), classId: classParam });
      return problem(503, 'the ledger could not be read; see the dashboard function logs', true);
    }
  }

  const cursorParam = req.query.get('cursor');
  const after = cursorParam === null ? undefined : decodeCursor(cursorParam);
  if (cursorParam !== null && !after)
    return problem(400, 'cursor is not one this dashboard gave out (use the "next" of a page)', wantsJson);

  try {
    let snapshot = await collectSnapshot(deps, {
      ...(limit === undefined ? {} : { limit }),
      ...(after ? { after } : {}),
      ...(statusParam ? { status: statusParam as ClassStatus } : {}),
      ...(deps.now ? { now: deps.now } : {}),
    });
    const render = (snap: DashboardSnapshot) =>
      wantsJson ? reply(200, 'application/json', renderJson(snap)) : reply(200, 'text/html', renderHtml(snap));
    let res = render(snapshot);
    // Long errors times thousands of rows can pass Lambda's limit: keep the rows that fit.
    for (
      let size = responseBytes(res);
      size > MAX_RESPONSE_BYTES && snapshot.classes.length > 1;
      size = responseBytes(res)
    ) {
      snapshot = firstRows(
        snapshot,
        Math.max(1, Math.floor(snapshot.classes.length * (MAX_RESPONSE_BYTES / size) * 0.95)),
      );
      res = render(snapshot);
    }
    if (wantsJson) {
      const etag = etagOf(snapshot, res.body);
      // A page that polls learns "nothing new" in a few bytes (it still costs this read of the ledger).
      if (matches(req.ifNoneMatch, etag)) return { status: 304, headers: { ...securityHeaders(), etag }, body: '' };
      res = { ...res, headers: { ...res.headers, etag } };
    }
    return req.method === 'HEAD' ? { ...res, body: '' } : res;
  } catch (err) {
    // The reason goes to the log; the caller learns only that the ledger could not be read.
    deps.log?.error('dashboard could not read the ledger', { error: describeError(err) });
    return problem(503, 'the ledger could not be read; see the dashboard function logs', wantsJson);
  }
}
