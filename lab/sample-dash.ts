/**
 * Writer for the DASH manifests of the sample library: a static MPD over the same CMAF (fMP4)
 * files the class's HLS playlists name, as packagers publish one beside the other.
 */

/** How one Representation addresses its media. */
export type DashAddressing =
  /** Separate files: an init segment and media segments named by a `$Number%05d$` template over a timeline (ms). */
  | { type: 'template'; init: string; media: string; startNumber: number; durationsMs: readonly number[] }
  /** One file holding init and segments, addressed by byte ranges (first-last, inclusive). */
  | { type: 'ranges'; init: { first: number; last: number }; segments: ReadonlyArray<{ first: number; last: number }> }
  /** One file per segment, listed by name (subtitles). */
  | { type: 'list'; media: readonly string[]; durationMs: number };

export interface DashRepresentation {
  id: string;
  bandwidth: number;
  /** Relative to the manifest, or root-relative: a directory ("360p/") or, for `ranges`, the file itself. */
  baseUrl: string;
  codecs?: string;
  width?: number;
  height?: number;
  addressing: DashAddressing;
}

export interface DashAdaptationSet {
  contentType: 'video' | 'audio' | 'text';
  mimeType: string;
  lang?: string;
  representations: readonly DashRepresentation[];
}

export interface DashManifest {
  durationSeconds: number;
  sets: readonly DashAdaptationSet[];
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function attrs(a: Record<string, string | number | undefined>): string {
  return Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${esc(String(v))}"`)
    .join('');
}

/** S elements for a list of durations: runs of equal durations become one S with @r. */
export function timelineXml(durations: readonly number[], indent: string): string {
  const out: string[] = [];
  for (let i = 0; i < durations.length;) {
    let j = i;
    while (j + 1 < durations.length && durations[j + 1] === durations[i]) j++;
    out.push(`${indent}<S${attrs({ t: i === 0 ? 0 : undefined, d: durations[i], r: j > i ? j - i : undefined })}/>`);
    i = j + 1;
  }
  return out.join('\n');
}

function addressingXml(a: DashAddressing, indent: string): string[] {
  switch (a.type) {
    case 'template':
      return [
        `${indent}<SegmentTemplate${attrs({ timescale: 1000, startNumber: a.startNumber, initialization: a.init, media: a.media })}>`,
        `${indent}  <SegmentTimeline>`,
        timelineXml(a.durationsMs, `${indent}    `),
        `${indent}  </SegmentTimeline>`,
        `${indent}</SegmentTemplate>`,
      ];
    case 'ranges':
      return [
        `${indent}<SegmentList timescale="1000">`,
        `${indent}  <Initialization range="${a.init.first}-${a.init.last}"/>`,
        ...a.segments.map((s) => `${indent}  <SegmentURL mediaRange="${s.first}-${s.last}"/>`),
        `${indent}</SegmentList>`,
      ];
    case 'list':
      return [
        `${indent}<SegmentList${attrs({ timescale: 1000, duration: a.durationMs })}>`,
        ...a.media.map((m) => `${indent}  <SegmentURL${attrs({ media: m })}/>`),
        `${indent}</SegmentList>`,
      ];
  }
}

/** Renders a static, single-Period MPD (ISO/IEC 23009-1, live profile shapes). */
export function renderMpd(m: DashManifest): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT${m.durationSeconds.toFixed(3)}S" minBufferTime="PT2S">`,
    '  <Period id="0" start="PT0S">',
  ];
  for (const set of m.sets) {
    lines.push(`    <AdaptationSet${attrs({ contentType: set.contentType, mimeType: set.mimeType, lang: set.lang })}>`);
    for (const r of set.representations) {
      lines.push(
        `      <Representation${attrs({ id: r.id, bandwidth: r.bandwidth, codecs: r.codecs, width: r.width, height: r.height })}>`,
        `        <BaseURL>${esc(r.baseUrl)}</BaseURL>`,
        ...addressingXml(r.addressing, '        '),
        '      </Representation>',
      );
    }
    lines.push('    </AdaptationSet>');
  }
  lines.push('  </Period>', '</MPD>', '');
  return lines.join('\n');
}
