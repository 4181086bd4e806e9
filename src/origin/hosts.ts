/** Returns true when `url`'s host is in the allow-list (exact host, host:port, or `*.domain`). */
export function isHostAllowed(url: URL, allowed: readonly string[]): boolean {
  const hostname = url.hostname.toLowerCase();
  const host = url.host.toLowerCase();
  return allowed.some((entry) => {
    if (entry.startsWith('*.')) {
      const suffix = entry.slice(1); // ".example.com"
      return hostname.endsWith(suffix) && hostname.length > suffix.length;
    }
    return entry.includes(':') && !entry.startsWith('[') ? entry === host : entry === hostname || entry === host;
  });
}

/** True for the schemes FLAnts fetches; everything else (skd:, data:, ftp:, ...) is never fetched. */
export function isFetchableScheme(url: URL): boolean {
  return url.protocol === 'http:' || url.protocol === 'https:';
}
