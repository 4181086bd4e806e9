// The one classifier of HTTP failures at the origin, case by case: which answers and which failures
// without an answer are worth another attempt, and the error each becomes.
import { describe, expect, it } from 'vitest';
import { FlantsError } from '../../../src/errors.ts';
import { OriginError } from '../../../src/domain/ports/origin.ts';
import {
  BlockedAddressError,
  bodyReadError,
  isPassingStatus,
  networkError,
  statusError,
} from '../../../src/adapters/origin/http-errors.ts';

describe('isPassingStatus and statusError: an answer', () => {
  it.each([
    [500, true],
    [502, true],
    [503, true],
    [504, true],
    [599, true],
    [429, true],
    [408, true],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [410, false],
    [416, false],
    [304, false],
    [206, false],
  ])('HTTP %i is passing trouble: %s', (status, passing) => {
    expect(isPassingStatus(status)).toBe(passing);
    const err = statusError('http://o/a.ts', status);
    expect(err).toBeInstanceOf(OriginError);
    expect(err).toMatchObject({ code: 'ORIGIN_HTTP_STATUS', status, retryable: passing, retryAfterSeconds: undefined });
    expect(err.message).toBe(`origin answered HTTP ${status} for http://o/a.ts`);
  });

  it('names the Retry-After the origin asked for', () => {
    const err = statusError('http://o/a.ts', 429, 7);
    expect(err).toMatchObject({ retryable: true, retryAfterSeconds: 7 });
    expect(err.message).toBe('origin answered HTTP 429 (Retry-After 7 s) for http://o/a.ts');
  });
});

describe('networkError: no answer', () => {
  const coded = (code: string, name = 'Error') => Object.assign(new Error('boom'), { code, name });
  it.each([
    ['a reset', coded('ECONNRESET'), 'ORIGIN_NETWORK', true],
    ["undici's socket error", coded('UND_ERR_SOCKET'), 'ORIGIN_NETWORK', true],
    ['a connect timeout', coded('UND_ERR_CONNECT_TIMEOUT'), 'ORIGIN_TIMEOUT', true],
    ['a body timeout', coded('UND_ERR_BODY_TIMEOUT'), 'ORIGIN_TIMEOUT', true],
    ['an AbortSignal.timeout', Object.assign(new Error('t'), { name: 'TimeoutError' }), 'ORIGIN_TIMEOUT', true],
    ["the caller's abort", Object.assign(new Error('a'), { name: 'AbortError' }), 'ORIGIN_NETWORK', false],
    ['a refused name (ENOTFOUND)', coded('ENOTFOUND'), 'ORIGIN_NETWORK', true],
    ['a thrown string', 'odd', 'ORIGIN_NETWORK', true],
  ])('%s', (_what, err, code, retryable) => {
    expect(networkError('http://o/a.ts', err)).toMatchObject({ code, retryable, url: 'http://o/a.ts' });
  });

  it('refuses a blocked address for good, found under the wrappers', () => {
    const blocked = new BlockedAddressError('h', '10.0.0.1', 'private-use');
    const wrapped = new Error('connect failed', { cause: new Error('lookup', { cause: blocked }) });
    expect(networkError('http://h/a.ts', wrapped)).toMatchObject({ code: 'ORIGIN_ADDRESS_BLOCKED', retryable: false });
  });

  it('keeps an OriginError as it is', () => {
    const own = new OriginError('ORIGIN_TRUNCATED', 'short', { url: 'u', retryable: true });
    expect(networkError('u', own)).toBe(own);
  });
});

describe('bodyReadError: what failed while a body was read', () => {
  it("keeps FLAnts' own verdicts (a length, a digest, a cap) and classifies the rest as the origin's", () => {
    const verdict = new FlantsError('PLAYLIST_CHANGED', 'changed');
    expect(bodyReadError('u', verdict)).toBe(verdict);
    const blocked = new BlockedAddressError('h', '10.0.0.1', 'private-use');
    expect(bodyReadError('u', blocked)).toBe(blocked);
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(bodyReadError('http://o/a.ts', reset)).toMatchObject({
      code: 'ORIGIN_NETWORK',
      retryable: true,
      cause: reset,
    });
  });
});
