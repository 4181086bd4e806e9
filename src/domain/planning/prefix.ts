// Where a class's keys go in the bucket: the destination prefix is a rule of the plan (keys cannot escape
// their root), read from DEST_PREFIX by src/config.ts and applied again by the enumeration.
import { ConfigError } from '../../errors.ts';

/** Normalises DEST_PREFIX to "" or "a/b/", refusing anything that could escape the bucket's prefix. */
export function normalizePrefix(raw: string, name = 'DEST_PREFIX'): string {
  const trimmed = raw.trim().replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '') return '';
  const parts = trimmed.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new ConfigError(`${name} must be a plain path like "media/hls", got "${raw}"`);
  }
  if (/[\p{Cc}\\]/u.test(trimmed)) throw new ConfigError(`${name} contains control characters or backslashes`);
  return `${trimmed}/`;
}
