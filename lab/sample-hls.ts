/** Writers for the HLS playlists of the sample library (RFC 8216 text, VOD only). */

/** `length@offset` of a byte-ranged reference. */
export interface ByteRangeRef {
  length: number;
  offset: number;
}

export interface MediaEntry {
  uri: string;
  duration: number;
  byterange?: ByteRangeRef;
  /** An EXT-X-KEY (METHOD=AES-128) that applies from this segment on. */
  key?: { uri: string; iv: Buffer };
}

export interface MediaPlaylist {
  targetDuration: number;
  entries: readonly MediaEntry[];
  map?: { uri: string; byterange?: ByteRangeRef };
  iframesOnly?: boolean;
}

export interface Rendition {
  type: 'AUDIO' | 'SUBTITLES';
  groupId: string;
  name: string;
  language: string;
  isDefault: boolean;
  uri: string;
  channels?: string;
}

export interface Variant {
  bandwidth: number;
  averageBandwidth: number;
  width: number;
  height: number;
  codecs: string;
  frameRate: number;
  audio?: string;
  subtitles?: string;
  uri: string;
}

export interface IFrameVariant {
  bandwidth: number;
  width: number;
  height: number;
  codecs: string;
  uri: string;
}

export interface MasterPlaylist {
  version: number;
  renditions: readonly Rendition[];
  variants: readonly Variant[];
  iframes: readonly IFrameVariant[];
  sessionData?: { dataId: string; uri: string };
  sessionKey?: { uri: string };
}

function q(s: string): string {
  if (/["\r\n]/.test(s)) throw new Error(`cannot quote ${JSON.stringify(s)} in a playlist attribute`);
  return `"${s}"`;
}

function range(r: ByteRangeRef): string {
  return `${r.length}@${r.offset}`;
}

/** The lowest EXT-X-VERSION that admits every feature the media playlist uses (RFC 8216 §7). */
export function mediaVersion(p: MediaPlaylist): number {
  if (p.map) return p.iframesOnly ? 5 : 6;
  if (p.iframesOnly || p.entries.some((e) => e.byterange)) return 4;
  // Decimal EXTINF durations need version 3.
  return 3;
}

/** Renders a VOD media playlist; TARGETDURATION must cover every rounded EXTINF. */
export function renderMedia(p: MediaPlaylist): string {
  const longest = Math.max(0, ...p.entries.map((e) => Math.round(e.duration)));
  if (longest > p.targetDuration) throw new Error(`segment of ${longest}s exceeds TARGETDURATION ${p.targetDuration}`);
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${mediaVersion(p)}`,
    `#EXT-X-TARGETDURATION:${p.targetDuration}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
  ];
  if (p.iframesOnly) lines.push('#EXT-X-I-FRAMES-ONLY');
  if (p.map)
    lines.push(`#EXT-X-MAP:URI=${q(p.map.uri)}${p.map.byterange ? `,BYTERANGE=${q(range(p.map.byterange))}` : ''}`);
  for (const e of p.entries) {
    if (e.key)
      lines.push(`#EXT-X-KEY:METHOD=AES-128,URI=${q(e.key.uri)},IV=0x${e.key.iv.toString('hex').toUpperCase()}`);
    lines.push(`#EXTINF:${e.duration.toFixed(3)},`);
    if (e.byterange) lines.push(`#EXT-X-BYTERANGE:${range(e.byterange)}`);
    lines.push(e.uri);
  }
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}

/** Renders a master playlist: renditions, variants, I-frame variants, session data and key. */
export function renderMaster(m: MasterPlaylist): string {
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${m.version}`, '#EXT-X-INDEPENDENT-SEGMENTS'];
  if (m.sessionData) lines.push(`#EXT-X-SESSION-DATA:DATA-ID=${q(m.sessionData.dataId)},URI=${q(m.sessionData.uri)}`);
  if (m.sessionKey) lines.push(`#EXT-X-SESSION-KEY:METHOD=AES-128,URI=${q(m.sessionKey.uri)}`);
  for (const r of m.renditions) {
    const attrs = [
      `TYPE=${r.type}`,
      `GROUP-ID=${q(r.groupId)}`,
      `NAME=${q(r.name)}`,
      `LANGUAGE=${q(r.language)}`,
      `DEFAULT=${r.isDefault ? 'YES' : 'NO'}`,
      'AUTOSELECT=YES',
      ...(r.type === 'SUBTITLES' ? ['FORCED=NO'] : []),
      ...(r.channels ? [`CHANNELS=${q(r.channels)}`] : []),
      `URI=${q(r.uri)}`,
    ];
    lines.push(`#EXT-X-MEDIA:${attrs.join(',')}`);
  }
  for (const v of m.variants) {
    const attrs = [
      `BANDWIDTH=${v.bandwidth}`,
      `AVERAGE-BANDWIDTH=${v.averageBandwidth}`,
      `RESOLUTION=${v.width}x${v.height}`,
      `CODECS=${q(v.codecs)}`,
      `FRAME-RATE=${v.frameRate.toFixed(3)}`,
      ...(v.audio ? [`AUDIO=${q(v.audio)}`] : []),
      ...(v.subtitles ? [`SUBTITLES=${q(v.subtitles)}`] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, v.uri);
  }
  for (const f of m.iframes) {
    lines.push(
      `#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=${f.bandwidth},RESOLUTION=${f.width}x${f.height},CODECS=${q(f.codecs)},URI=${q(f.uri)}`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

function timestamp(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/** One WebVTT subtitle segment with a single cue inside [start, start+duration). */
export function renderVtt(opts: { start: number; duration: number; text: string; mpegTs: boolean }): string {
  const lines = ['WEBVTT'];
  // With MPEG-TS media the cue times are mapped onto the 90 kHz clock (TS starts at 10 s = 900000).
  if (opts.mpegTs) lines.push('X-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000');
  const end = opts.start + Math.max(0.5, opts.duration - 0.5);
  lines.push(
    '',
    `${timestamp(opts.start)} --> ${timestamp(end)}`,
    opts.text.replace(/-->/g, '->').replace(/\n+/g, ' '),
    '',
  );
  return lines.join('\n');
}
