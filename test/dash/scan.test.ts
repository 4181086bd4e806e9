// The MPD scanner (src/dash/scan.ts) alone: text in, references out, no fetch, no plan. Each test states
// one rule of what a manifest names (kind, tag, address, byte range) or why it is refused (code, and the
// message naming the element at fault), at the boundaries the pipeline tests do not reach.
import { describe, expect, it } from 'vitest';
import { decodeXmlText, isMpdText, scanMpd, type MpdScanContext } from '../../src/dash/scan.ts';
import { PlaylistError } from '../../src/hls/errors.ts';

const DIR = 'https://cdn.example.com/lib/class/';
const URL0 = `${DIR}manifest.mpd`;
const BASE = new URL(URL0);

function mpd(body: string, attrs = 'type="static" mediaPresentationDuration="PT8S"'): string {
  return `<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:xlink="http://www.w3.org/1999/xlink" ${attrs}>\n${body}\n</MPD>\n`;
}

/** One AdaptationSet in one Period of 4 s. */
function set(inner: string, attrs = 'mimeType="video/mp4"'): string {
  return mpd(`<Period duration="PT4S"><AdaptationSet ${attrs}>${inner}</AdaptationSet></Period>`);
}

/** "kind tag address [range]", addresses relative to the manifest's directory. */
function rows(text: string, ctx: Partial<MpdScanContext> = {}): string[] {
  return scanMpd(text, { baseUrl: BASE, ...ctx }).references.map(
    (r) => `${r.kind} ${r.tag} ${r.uri.replace(DIR, '')}${r.range === undefined ? '' : ` ${r.range}`}`,
  );
}

function refused(text: string, ctx: Partial<MpdScanContext> = {}): PlaylistError {
  try {
    scanMpd(text, { baseUrl: BASE, ...ctx });
  } catch (err) {
    expect(err).toBeInstanceOf(PlaylistError);
    return err as PlaylistError;
  }
  throw new Error('expected a PlaylistError');
}

describe('which bodies are MPDs', () => {
  it('the root element MPD after any prolog, with or without spaces between; nothing before it', () => {
    expect(isMpdText('\n  <MPD type="static">')).toBe(true);
    expect(isMpdText('\uFEFF<MPD>')).toBe(true);
    expect(isMpdText('<!-- made by x --><MPD>')).toBe(true);
    expect(isMpdText('<!DOCTYPE MPD><MPD>')).toBe(true);
    expect(isMpdText('<!DOCTYPE MPD [<!ENTITY a "b">] >\n<MPD>')).toBe(true);
    expect(isMpdText('junk <MPD>')).toBe(false);
  });

  it('looks at the first 64 KiB only', () => {
    expect(isMpdText(`<!--${'x'.repeat(70_000)}-->\n<MPD>`)).toBe(false);
  });
});

describe('what the scanner refuses to read', () => {
  it('a binary body, even one the XML parser would take', () => {
    const e = refused(mpd('<!-- \u0000 -->'));
    expect(e.code).toBe('NOT_A_PLAYLIST');
    expect(e.message).toBe(`${URL0}: not a DASH manifest: the body is binary`);
  });

  it("badly formed XML, quoting at most 200 characters of the parser's reason", () => {
    const e = refused(`<MPD><${'a'.repeat(300)}></MPD>`);
    const head = `${URL0}: neither an HLS playlist nor a well-formed DASH manifest (`;
    expect(e.message.startsWith(`${head}Expected closing tag`)).toBe(true);
    expect(e.message).toHaveLength(head.length + 200 + 1);
  });

  it('XML whose root is not one MPD element: another root, or two MPDs', () => {
    for (const text of ['<?xml version="1.0"?><html/>', '<MPD/><MPD/>']) {
      const e = refused(text);
      expect(e.code).toBe('NOT_A_PLAYLIST');
      expect(e.message).toBe(`${URL0}: an XML document whose root is not one MPD element: not a DASH manifest`);
    }
  });
});

describe('how values are read', () => {
  it('the five XML entities are read; an HTML entity stays as written', () => {
    expect(
      rows(set('<SegmentTemplate media="s$Number$.m4s?a=1&amp;b=2" duration="4"/><Representation id="v"/>')),
    ).toEqual(['segment SegmentTemplate@media s1.m4s?a=1&b=2']);
    expect(rows(set('<SegmentTemplate media="s$Number$-&copy;.m4s" duration="4"/><Representation id="v"/>'))).toEqual([
      'segment SegmentTemplate@media s1-&copy;.m4s',
    ]);
  });

  // XML's character references (XML 1.0 §4.1) are the document's characters as much as its five entities:
  // a signed query written `&#38;` names the same address as `&amp;`. Read in one pass, so an escaped
  // reference (`&amp;#38;`) stays the literal text it spells.
  it('character references are read, decimal and hexadecimal, in one pass with the entities', () => {
    expect(
      rows(
        set('<SegmentTemplate media="s$Number$.m4s?a=1&#38;b=2&#x26;c=&#233;" duration="4"/><Representation id="v"/>'),
      ),
    ).toEqual(['segment SegmentTemplate@media s1.m4s?a=1&b=2&c=%C3%A9']);
    expect(rows(set('<Representation id="v"><BaseURL>v&#38;1.mp4?x=&amp;#38;</BaseURL></Representation>'))).toEqual([
      'segment BaseURL v&1.mp4?x=&#38;',
    ]);
  });

  it("decodes each of the five entities and a reference at each edge of XML's characters (XML 1.0 §2.2)", () => {
    expect(decodeXmlText('&amp;&lt;&gt;&quot;&apos;')).toBe(`&<>"'`);
    expect(decodeXmlText('&copy;&AMP;&#;&#x;')).toBe('&copy;&AMP;&#;&#x;');
    const allowed = [0x9, 0xa, 0xd, 0x20, 0xd7ff, 0xe000, 0xfffd, 0x10000, 0x10ffff];
    for (const cp of allowed) {
      expect(decodeXmlText(`&#${cp};`), `&#${cp};`).toBe(String.fromCodePoint(cp));
      expect(decodeXmlText(`&#x${cp.toString(16)};`), `&#x${cp.toString(16)};`).toBe(String.fromCodePoint(cp));
    }
    const refused = [0x0, 0x8, 0xb, 0xc, 0xe, 0x1f, 0xd800, 0xdfff, 0xfffe, 0xffff, 0x110000];
    for (const cp of refused)
      expect(() => decodeXmlText(`a&#x${cp.toString(16).toUpperCase()};b`), `&#x${cp.toString(16)};`).toThrow(
        `the character reference &#x${cp.toString(16).toUpperCase()}; names no XML character`,
      );
  });

  it('a character reference to no XML character refuses the manifest', () => {
    for (const ref of ['&#0;', '&#xD800;', '&#x110000;', '&#99999999;'])
      expect(
        refused(set(`<SegmentTemplate media="s$Number$${ref}.m4s" duration="4"/><Representation id="v"/>`)).code,
        ref,
      ).toBe('NOT_A_PLAYLIST');
  });

  it('a BaseURL of digits is a name, not a number', () => {
    expect(rows(set('<Representation id="v"><BaseURL>720</BaseURL></Representation>'))).toEqual([
      'segment BaseURL 720',
    ]);
  });

  it('values are trimmed: a spaced resolve-to-zero still removes, a blank attribute names no file', () => {
    const zero = mpd(
      `<Period xlink:href="  urn:mpeg:dash:resolve-to-zero:2013  "><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="z$Number$.m4s" duration="4"/><Representation id="z"/></AdaptationSet></Period>`,
    );
    expect(rows(zero)).toEqual([]);
    expect(
      rows(set('<SegmentTemplate initialization="  " media="s$Number$.m4s" duration="4"/><Representation id="v"/>')),
    ).toEqual(['segment SegmentTemplate@media s1.m4s']);
    expect(
      rows(set('<SegmentTemplate initialization="" media="s$Number$.m4s" duration="4"/><Representation id="v"/>')),
    ).toEqual(['segment SegmentTemplate@media s1.m4s']);
  });
});

describe('BaseURL', () => {
  it('a BaseURL with attributes is read by its text; an empty one is the level above', () => {
    expect(
      rows(
        set('<SegmentTemplate media="s$Number$.m4s" duration="4"/><Representation id="v"/>').replace(
          '<Period',
          '<BaseURL serviceLocation="a">media/</BaseURL><Period',
        ),
      ),
    ).toEqual(['segment SegmentTemplate@media media/s1.m4s']);
    expect(
      rows(set('<BaseURL>v.mp4</BaseURL><Representation id="v"><BaseURL serviceLocation="b"/></Representation>')),
    ).toEqual(['segment BaseURL v.mp4']);
  });

  it('without an allowHost rule the first BaseURL is followed, on any host', () => {
    const text = set('<SegmentTemplate media="s$Number$.m4s" duration="4"/><Representation id="v"/>').replace(
      '<Period',
      '<BaseURL>https://other.example.org/x/</BaseURL><BaseURL>media/</BaseURL><Period',
    );
    expect(scanMpd(text, { baseUrl: BASE }).references.map((r) => r.uri)).toEqual([
      'https://other.example.org/x/s1.m4s',
    ]);
  });

  it('a BaseURL that is no URI is refused, quoting at most 200 characters of it', () => {
    const bad = (raw: string) => mpd(`<BaseURL>${raw}</BaseURL>`);
    expect(refused(bad('http://[')).message).toBe(`${URL0}: MPD BaseURL "http://[" is not a valid URI`);
    const long = `http://[${'x'.repeat(300)}`;
    expect(refused(bad(long)).message).toBe(`${URL0}: MPD BaseURL "${long.slice(0, 200)}" is not a valid URI`);
  });

  it('names the level whose BaseURLs are all on hosts not allowed, and every BaseURL it had', () => {
    const allowHost = (u: URL) => u.hostname === 'cdn.example.com';
    const mpdLevel = refused(
      mpd('<BaseURL>https://a.example.org/x/</BaseURL><BaseURL>https://b.example.org/y/</BaseURL>'),
      { allowHost },
    );
    expect(mpdLevel.code).toBe('HOST_NOT_ALLOWED');
    expect(mpdLevel.message).toBe(
      `${URL0}: no BaseURL of the MPD is on a host in ORIGIN_ALLOWED_HOSTS (https://a.example.org/x/, https://b.example.org/y/)`,
    );
    const second = refused(
      mpd('<Period duration="PT1S"/><Period duration="PT1S"><BaseURL>https://a.example.org/x/</BaseURL></Period>'),
      { allowHost },
    );
    expect(second.message).toContain('no BaseURL of the Period #2 is on a host');
    const set2 = refused(
      mpd(
        '<Period duration="PT1S"><AdaptationSet/><AdaptationSet><BaseURL>https://a.example.org/x/</BaseURL></AdaptationSet></Period>',
      ),
      { allowHost },
    );
    expect(set2.message).toContain('no BaseURL of the AdaptationSet #2 of Period #1 is on a host');
  });

  it('a Representation without segment information is the file its own BaseURL names, at any level below the MPD', () => {
    const rep = '<Representation id="v"/>';
    // No BaseURL at all, or only the MPD's: no file.
    expect(rows(set(rep))).toEqual([]);
    expect(rows(set(rep).replace('<Period', '<BaseURL>media/</BaseURL><Period'))).toEqual([]);
    expect(rows(set(rep).replace('<AdaptationSet', '<BaseURL>movie.mp4</BaseURL><AdaptationSet'))).toEqual([
      'segment BaseURL movie.mp4',
    ]);
    expect(rows(set(`<BaseURL>set.mp4</BaseURL>${rep}`))).toEqual(['segment BaseURL set.mp4']);
  });
});

describe('the references a manifest may name', () => {
  const three = set(
    '<SegmentTemplate initialization="init.mp4" media="s$Number$.m4s" duration="2"/><Representation id="v"/>',
  );

  it('exactly maxReferences, repeats included; one more is refused', () => {
    expect(rows(three, { maxReferences: 3 })).toHaveLength(3);
    const e = refused(three, { maxReferences: 2 });
    expect(e.code).toBe('TOO_MANY_FILES');
    expect(e.message).toBe(`${URL0}: the manifest names more than 2 files, repeats included (HLS_MAX_FILES)`);
  });
});

describe('xlink:href', () => {
  it('resolve-to-zero removes the element and everything in it', () => {
    const text = mpd(
      `<Period xlink:href="urn:mpeg:dash:resolve-to-zero:2013"><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="z$Number$.m4s" duration="4"/><Representation id="z"/></AdaptationSet></Period>
      <Period duration="PT2S"><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="s$Number$.m4s" duration="2"/><Representation id="v"/></AdaptationSet></Period>`,
    );
    expect(rows(text)).toEqual(['segment SegmentTemplate@media s1.m4s']);
  });

  it('a remote element is refused, naming it and quoting at most 200 characters of its address', () => {
    const href = `https://cdn.example.com/${'p'.repeat(300)}.xml`;
    const e = refused(mpd(`<Period duration="PT1S"/><Period xlink:href="${href}"/>`));
    expect(e.code).toBe('MANIFEST_UNSUPPORTED');
    expect(e.message).toBe(
      `${URL0}: the Period #2 has xlink:href="${href.slice(0, 200)}": remote elements are not followed; serve the manifest with the element resolved in place`,
    );
    const inSet = refused(mpd(`<Period duration="PT1S"><AdaptationSet/><AdaptationSet xlink:href="x.xml"/></Period>`));
    expect(inSet.message).toContain('the AdaptationSet #2 of Period #1 has xlink:href="x.xml"');
  });
});

describe('Period timing', () => {
  const template = (media: string) =>
    `<AdaptationSet mimeType="video/mp4"><SegmentTemplate media="${media}" duration="2"/><Representation id="v"/></AdaptationSet>`;

  it("a Period without start starts where the previous one ended; the last lasts to the presentation's end", () => {
    const text = mpd(
      `<Period start="PT10S" duration="PT4S"/><Period>${template('p2-$Number$.m4s')}</Period>`,
      'type="static" mediaPresentationDuration="PT20S"',
    );
    // Period 2 starts at 14 s and lasts 6 s: three segments of 2 s.
    expect(rows(text)).toEqual([
      'segment SegmentTemplate@media p2-1.m4s',
      'segment SegmentTemplate@media p2-2.m4s',
      'segment SegmentTemplate@media p2-3.m4s',
    ]);
  });

  it("a Period without duration lasts until the next one's start", () => {
    const text = mpd(`<Period start="PT2S">${template('p1-$Number$.m4s')}</Period><Period start="PT6S"/>`);
    expect(rows(text)).toEqual(['segment SegmentTemplate@media p1-1.m4s', 'segment SegmentTemplate@media p1-2.m4s']);
  });

  it('a Period that is not the last, without duration and followed by a Period without start, has no known length', () => {
    const e = refused(mpd(`<Period>${template('p1-$Number$.m4s')}</Period><Period/>`));
    expect(e.code).toBe('MANIFEST_UNSUPPORTED');
    // A static manifest: no advice to wait for it.
    expect(e.message).toBe(
      `${URL0}: Representation "v" of Period #1 has a SegmentTemplate@duration but the Period has no known duration (no Period@duration, next Period@start or MPD@mediaPresentationDuration), so its segments cannot be counted`,
    );
  });
});

describe('messages name the Representation by id, else by position', () => {
  it('bandwidth, startNumber, endNumber, presentationTimeOffset and timescale', () => {
    const withAttrs = (tpl: string, rep: string) =>
      mpd(
        `<Period duration="PT1S"/><Period duration="PT4S"><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="s$Number$.m4s" duration="2" ${tpl}/><Representation id="a"/>${rep}</AdaptationSet></Period>`,
      );
    expect(refused(withAttrs('', '<Representation bandwidth="x"/>')).message).toBe(
      `${URL0}: Representation "#2" of Period #2 bandwidth="x" is not a whole number`,
    );
    expect(refused(withAttrs('', '<Representation id="v" bandwidth="x"/>')).message).toBe(
      `${URL0}: Representation "v" of Period #2 bandwidth="x" is not a whole number`,
    );
    expect(refused(withAttrs('startNumber="x"', '')).message).toBe(
      `${URL0}: Representation "a" of Period #2 startNumber="x" is not a whole number`,
    );
    expect(refused(withAttrs('endNumber="x"', '')).message).toBe(
      `${URL0}: Representation "a" of Period #2 endNumber="x" is not a whole number`,
    );
    const pto = mpd(
      `<Period duration="PT4S"><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="t$Time$.m4s" presentationTimeOffset="-5"><SegmentTimeline><S d="2"/></SegmentTimeline></SegmentTemplate><Representation id="a"/></AdaptationSet></Period>`,
    );
    expect(refused(pto).message).toBe(
      `${URL0}: Representation "a" of Period #1 presentationTimeOffset="-5" is not a whole number`,
    );
  });

  it('a timescale of 0, below 0 or no number is refused before any count', () => {
    for (const timescale of ['0', '-1', 'x']) {
      const e = refused(
        set(`<SegmentTemplate media="s$Number$.m4s" duration="2" timescale="${timescale}"/><Representation id="v"/>`),
      );
      expect(e.code).toBe('NOT_A_PLAYLIST');
      expect(e.message).toBe(
        `${URL0}: Representation "v" of Period #1 has timescale="${timescale}": it must be positive`,
      );
    }
  });
});

describe('segment information', () => {
  it('the innermost level declaring segment information decides its type', () => {
    const text = mpd(`<Period duration="PT4S"><SegmentTemplate media="p$Number$.m4s" duration="4"/>
      <AdaptationSet mimeType="video/mp4"><Representation id="v"><SegmentList><SegmentURL media="r1.m4s"/></SegmentList></Representation>
      <Representation id="w"/></AdaptationSet></Period>`);
    expect(rows(text)).toEqual(['segment SegmentURL r1.m4s', 'segment SegmentTemplate@media p1.m4s']);
  });

  it("child elements come from the innermost level that has them; a vendor's child element is no attribute", () => {
    const timeline = mpd(`<Period duration="PT4S"><AdaptationSet mimeType="video/mp4">
      <SegmentTemplate media="t$Time$.m4s"><SegmentTimeline><S t="0" d="2" r="1"/></SegmentTimeline><Xindex>x.sidx</Xindex></SegmentTemplate>
      <Representation id="v"><SegmentTemplate timescale="1"/></Representation></AdaptationSet></Period>`);
    expect(rows(timeline)).toEqual(['segment SegmentTemplate@media t0.m4s', 'segment SegmentTemplate@media t2.m4s']);
    const inits = set(`<SegmentList><Initialization sourceURL="set-init.mp4"/></SegmentList>
      <Representation id="v"><SegmentList><Initialization sourceURL="rep-init.mp4"/><SegmentURL media="s1.m4s"/></SegmentList></Representation>`);
    expect(rows(inits)).toEqual(['init Initialization rep-init.mp4', 'segment SegmentURL s1.m4s']);
  });

  it('the innermost mimeType wins; text by contentType, a text/ or TTML type, or wvtt/stpp codecs, in any case', () => {
    const kind = (setAttrs: string, repAttrs = '') =>
      rows(set(`<SegmentTemplate media="s.m4s"/><Representation id="v" ${repAttrs}/>`, setAttrs))[0]!.split(' ')[0];
    expect(kind('mimeType="video/mp4"', 'mimeType="text/vtt"')).toBe('subtitle');
    expect(kind('mimeType="text/vtt"', 'mimeType="application/mp4"')).toBe('segment');
    expect(kind('contentType="TEXT" mimeType="application/mp4"')).toBe('subtitle');
    expect(kind('mimeType="TEXT/VTT"')).toBe('subtitle');
    expect(kind('mimeType="application/ttml+xml"')).toBe('subtitle');
    expect(kind('mimeType="application/mp4" codecs="mp4a.40.2, wvtt"')).toBe('subtitle');
    expect(kind('mimeType="application/mp4" codecs="notwvtt"')).toBe('segment');
    expect(kind('mimeType="application/mp4"')).toBe('segment');
  });
});

describe('SegmentBase and SegmentList', () => {
  it('SegmentBase: the Initialization and RepresentationIndex files with their ranges, then the media file', () => {
    const text = set(`<Representation id="v"><BaseURL>v.mp4</BaseURL><SegmentBase>
      <Initialization sourceURL="v-init.mp4" range="0-99"/><RepresentationIndex sourceURL="v.sidx" range="810-1021"/>
      </SegmentBase></Representation>`);
    expect(rows(text)).toEqual([
      'init Initialization v-init.mp4 100@0',
      'data RepresentationIndex v.sidx 212@810',
      'segment BaseURL v.mp4',
    ]);
  });

  it('SegmentList: its files and ranges, an Initialization without sourceURL in the media file, SegmentURL@index', () => {
    const text = set(`<Representation id="v"><BaseURL>v.mp4</BaseURL><SegmentList duration="2">
      <Initialization range="0-99"/><RepresentationIndex sourceURL="v.sidx" range="100-199"/>
      <SegmentURL media="s1.m4s" mediaRange="0-9" index="s1.sidx" indexRange="10-19"/><SegmentURL mediaRange="200-299"/>
      </SegmentList></Representation>`);
    expect(rows(text)).toEqual([
      'data RepresentationIndex v.sidx 100@100',
      'init Initialization v.mp4 100@0',
      'segment SegmentURL s1.m4s 10@0',
      'data SegmentURL@index s1.sidx 10@10',
      'segment SegmentURL v.mp4 100@200',
    ]);
  });

  it('one SegmentURL is a list too; the SegmentURLs come from the innermost list that has any', () => {
    expect(
      rows(set('<Representation id="v"><SegmentList><SegmentURL media="only.m4s"/></SegmentList></Representation>')),
    ).toEqual(['segment SegmentURL only.m4s']);
    const text = set(`<SegmentList><SegmentURL media="s1.m4s"/></SegmentList>
      <Representation id="v"><SegmentList><Initialization sourceURL="i.mp4"/></SegmentList></Representation>`);
    expect(rows(text)).toEqual(['init Initialization i.mp4', 'segment SegmentURL s1.m4s']);
  });

  it('exactly maxSegments SegmentURLs; one more is refused, naming the Representation', () => {
    const two = set(
      '<Representation id="v"><SegmentList><SegmentURL media="a.m4s"/><SegmentURL media="b.m4s"/></SegmentList></Representation>',
    );
    expect(rows(two, { maxSegments: 2 })).toHaveLength(2);
    const e = refused(two, { maxSegments: 1 });
    expect(e.code).toBe('TOO_MANY_FILES');
    expect(e.message).toBe(
      `${URL0}: Representation "v" of Period #1 lists 2 segments, more than 1 (DASH_MAX_SEGMENTS)`,
    );
  });
});

describe('SegmentTemplate', () => {
  it('initialization, bitstreamSwitching (a template, not true or false), index, media: each with its tag', () => {
    const text =
      set(`<SegmentTemplate initialization="$RepresentationID$-init.mp4" bitstreamSwitching="$RepresentationID$-bs.mp4"
      index="$RepresentationID$.sidx" media="$RepresentationID$-$Number$.m4s" duration="4"/><Representation id="v"/>`);
    expect(rows(text)).toEqual([
      'init SegmentTemplate@initialization v-init.mp4',
      'init SegmentTemplate@bitstreamSwitching v-bs.mp4',
      'data SegmentTemplate@index v.sidx',
      'segment SegmentTemplate@media v-1.m4s',
    ]);
    for (const flag of ['true', 'false'])
      expect(
        rows(
          set(
            `<SegmentTemplate bitstreamSwitching="${flag}" media="s$Number$.m4s" duration="4"/><Representation id="v"/>`,
          ),
        ),
      ).toEqual(['segment SegmentTemplate@media s1.m4s']);
  });

  it('without an initialization attribute, its Initialization element', () => {
    const text = set(
      '<SegmentTemplate media="s$Number$.m4s" duration="4"><Initialization sourceURL="i.mp4" range="0-9"/></SegmentTemplate><Representation id="v"/>',
    );
    expect(rows(text)).toEqual(['init Initialization i.mp4 10@0', 'segment SegmentTemplate@media s1.m4s']);
  });

  it('with neither duration nor timeline: one segment, addressed without $Number$', () => {
    expect(rows(set('<SegmentTemplate media="$RepresentationID$.mp4"/><Representation id="v"/>'))).toEqual([
      'segment SegmentTemplate@media v.mp4',
    ]);
  });

  it('a timeline S is named by its position in messages: a missing d, a t or r that is no integer', () => {
    const timeline = (s2: string) =>
      set(
        `<SegmentTemplate media="t$Time$.m4s"><SegmentTimeline><S t="0" d="2"/>${s2}</SegmentTimeline></SegmentTemplate><Representation id="v"/>`,
      );
    expect(refused(timeline('<S t="2"/>')).message).toBe(
      `${URL0}: Representation "v" of Period #1 S #2 d="" is not a whole number`,
    );
    expect(refused(timeline('<S t="x" d="2"/>')).message).toBe(
      `${URL0}: Representation "v" of Period #1 S #2 t="x" is not a whole number`,
    );
    for (const r of ['x', 'x5', '5x', '1.5']) {
      const e = refused(timeline(`<S d="2" r="${r}"/>`));
      expect(e.code).toBe('NOT_A_PLAYLIST');
      expect(e.message).toBe(`${URL0}: Representation "v" of Period #1 S #2 has r="${r}"`);
    }
    expect(rows(timeline('<S d="2" r="-1"/>'))).toEqual([
      'segment SegmentTemplate@media t0.m4s',
      'segment SegmentTemplate@media t2.m4s',
    ]);
  });
});
