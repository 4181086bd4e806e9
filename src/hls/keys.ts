import { PlaylistError } from './errors.ts';

/** S3's limit on a key's length, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

function decodeOnce(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    // Malformed escapes ("%zz") stay as written: that is also how a web server would name the file.
    return segment;
  }
}

function unsafe(url: URL, why: string): PlaylistError {
  return new PlaylistError('UNSAFE_KEY', `refusing ${url.href}: ${why}`, url.href);
}

/** The path a URL's key mirrors: the URL's path, or for file: URLs the path below the master's directory. */
function keyPath(url: URL, masterUrl: URL): string {
  if (url.protocol === 'file:') {
    if (masterUrl.protocol !== 'file:') throw unsafe(url, 'a file: URL in a class whose master is not a file');
    const dir = masterUrl.pathname.slice(0, masterUrl.pathname.lastIndexOf('/') + 1);
    if (!url.pathname.startsWith(dir)) throw unsafe(url, `it is outside the master playlist's directory ${dir}`);
    return url.pathname.slice(dir.length);
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') return url.pathname;
  throw unsafe(url, `${url.protocol} URLs are never copied`);
}

/**
 * Maps a file's URL to its destination key: destPrefix + its path (each segment percent-decoded once, query and
 * fragment dropped, empty segments collapsed); files on another host than the master's go under `_hosts/<host>/`.
 * Throws UNSAFE_KEY for anything that could escape the prefix or that S3 cannot store.
 */
export function keyForUrl(url: URL, masterUrl: URL, destPrefix: string): string {
  const path = keyPath(url, masterUrl);
  if (path === '' || path.endsWith('/')) throw unsafe(url, 'its path names a directory, not a file');
  const decoded = path.split('/').map(decodeOnce).join('/');
  // Split again after decoding: "%2F" may have produced separators, and "..%2F" a parent segment.
  const segments = decoded.split('/').filter((s) => s !== '');
  const foreign = url.protocol !== 'file:' && url.host.toLowerCase() !== masterUrl.host.toLowerCase();
  if (foreign) segments.unshift('_hosts', url.host.toLowerCase());
  if (segments.some((s) => s === '.' || s === '..')) throw unsafe(url, 'its path has a "." or ".." segment once decoded');
  const key = destPrefix + segments.join('/');
  if (/[\u0000-\u001f\u007f]/.test(key)) throw unsafe(url, 'its path has control characters once decoded');
  if (segments.length === 0 || key.startsWith('/')) throw unsafe(url, 'it maps to an empty key');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw unsafe(url, `its key would exceed ${MAX_KEY_BYTES} bytes`);
  return key;
}
