/** Content types by file extension: the one table (the lab's sample library serves the same). */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  m3u8: 'application/vnd.apple.mpegurl',
  m3u: 'application/vnd.apple.mpegurl',
  mpd: 'application/dash+xml',
  ts: 'video/mp2t',
  m4s: 'video/iso.segment',
  mp4: 'video/mp4',
  webm: 'video/webm',
  m4v: 'video/mp4',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  mp3: 'audio/mpeg',
  ac3: 'audio/ac3',
  ec3: 'audio/eac3',
  vtt: 'text/vtt',
  webvtt: 'text/vtt',
  ttml: 'application/ttml+xml',
  json: 'application/json',
  key: 'application/octet-stream',
  bin: 'application/octet-stream',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
};

/** The Content-Type to store, so CloudFront serves players what they expect: the origin's, else by extension. */
export function contentTypeFor(key: string, originType: string | undefined): string {
  const generic = !originType || /^(application\/octet-stream|binary\/octet-stream|text\/plain)\b/i.test(originType);
  const ext = /\.([a-z0-9]+)$/i.exec(key)?.[1]?.toLowerCase();
  const known = ext ? CONTENT_TYPES[ext] : undefined;
  if (generic && known) return known;
  return originType ?? 'application/octet-stream';
}
