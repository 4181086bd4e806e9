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
 * The key segment of a class: its id, percent-encoded where S3 keys or URLs would read it otherwise
 * (`/`, `%`, control characters; `.` and `..` as a whole), so distinct ids never share a segment.
 */
export function classSegment(classId: string): string {
  if (classId === '') throw new PlaylistError('UNSAFE_KEY', 'a class id is empty', classId);
  const encoded = encodeURIComponent(classId);
  // encodeURIComponent never writes "%2E", so this cannot alias another id.
  return encoded === '.' || encoded === '..' ? encoded.replaceAll('.', '%2E') : encoded;
}

/** The key prefix of one class's copy: DEST_PREFIX + class segment + "/". Nothing of another class is ever under it. */
export function classRoot(destPrefix: string, classId: string): string {
  return `${destPrefix}${classSegment(classId)}/`;
}

/**
 * Maps a file's URL to its destination key under `root` (normally `classRoot(DEST_PREFIX, classId)`):
 * root + the URL's host (lower case, with a non-default port) + its path (each segment percent-decoded
 * once, query and fragment dropped, empty segments collapsed). The host is always a key segment, so two
 * hosts can never collide, and a path on one host cannot pose as another host's file. Local file: URLs
 * (`flants plan <file>`) map to their path below the master's directory, without a host.
 * Throws UNSAFE_KEY for anything that could escape the root or that S3 cannot store.
 */
export function keyForUrl(url: URL, masterUrl: URL, root: string): string {
  const path = keyPath(url, masterUrl);
  if (path === '' || path.endsWith('/')) throw unsafe(url, 'its path names a directory, not a file');
  const decoded = path.split('/').map(decodeOnce).join('/');
  // Split again after decoding: "%2F" may have produced separators, and "..%2F" a parent segment.
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.length === 0) throw unsafe(url, 'it maps to an empty key');
  if (url.protocol !== 'file:') segments.unshift(url.host.toLowerCase());
  if (segments.some((s) => s === '.' || s === '..'))
    throw unsafe(url, 'its path has a "." or ".." segment once decoded');
  const key = root + segments.join('/');
  if (/\p{Cc}/u.test(key)) throw unsafe(url, 'its path has control characters once decoded');
  if (key.startsWith('/')) throw unsafe(url, 'it maps to a key starting with "/"');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw unsafe(url, `its key would exceed ${MAX_KEY_BYTES} bytes`);
  return key;
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * What makes two references the same file: host and path, with percent-encoding normalised
 * (RFC 3986 6.2.2: hex case, unreserved characters decoded) but nothing else folded. The query,
 * fragment and scheme are how a file is fetched, not which file (a copy behind CloudFront cannot
 * tell `a.ts?x=1` from `a.ts?x=2` either). Two references with different identities that map to
 * one key are a collision (`a%2Fb.ts` and `a/b.ts`, `//a.ts` and `/a.ts`, `%25zz` and `%zz`).
 */
export function fileIdentity(url: URL): string {
  const path = url.pathname.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });
  return url.protocol === 'file:' ? path : `${url.host.toLowerCase()}${path}`;
}
