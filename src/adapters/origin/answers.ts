// A non-200 answer read into its OriginError (a 403 for an expired signature told apart by its body),
// and an answer's Retry-After. The classification itself is http-errors.ts.
import type { Dispatcher } from 'undici';
import { OriginError } from '../../domain/ports/origin.ts';
import { parseRetryAfter } from '../../domain/origin/politeness.ts';
import { headerValue } from './headers.ts';
import { statusError } from './http-errors.ts';

/** Reads at most a few KiB of an error body: enough to tell an expired signature from a real refusal. */
async function errorBody(res: Dispatcher.ResponseData): Promise<string> {
  // Stryker disable next-line StringLiteral: a start without the expired wording changes no answer
  let text = '';
  try {
    for await (const chunk of res.body) {
      text += (chunk as Buffer).toString('utf8');
      if (text.length > 4096) break;
    }
  } catch {
    // The status is what matters; a broken error body changes nothing.
  }
  res.body.destroy();
  return text;
}

/** The error for a non-200 answer; a 403 for an expired signed URL is worth another attempt. */
export async function responseError(url: string, res: Dispatcher.ResponseData): Promise<OriginError> {
  if (res.statusCode === 403) {
    const body = await errorBody(res);
    if (/request has expired|signature.*expired|expired.*(signature|token|url)|ExpiredToken/i.test(body)) {
      return new OriginError('ORIGIN_SIGNATURE_EXPIRED', `origin answered HTTP 403 (expired signature) for ${url}`, {
        url,
        status: 403,
        retryable: true,
      });
    }
    return statusError(url, 403);
  }
  res.body.resume();
  return statusError(url, res.statusCode, retryAfterOf(res));
}

/** The Retry-After of an answer, in seconds, when it has one. */
export function retryAfterOf(res: Dispatcher.ResponseData): number | undefined {
  return parseRetryAfter(headerValue(res.headers['retry-after']), Date.now());
}
