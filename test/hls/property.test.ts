// Property: for random well-formed playlists, every key stays under the prefix, no file appears twice, two different
// files never share a key (the plan is refused instead), and every
// http(s) reference of every playlist is in the plan (checked with the reference key scheme, not the code's).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planClass } from '../../src/hls/enumerate.ts';
import { PlaylistError } from '../../src/hls/errors.ts';
import type { PlaylistFetcher } from '../../src/hls/types.ts';
import { LIMITS } from './helpers.ts';
import { referenceKey } from './reference.ts';

const MASTER = 'https://cdn.example.com/lib/class/master.m3u8?token=t';
const SAFE_DIRS = ['a', 'B', 'v1', '..', '.', '%2e%2e', 'x%20y', 'caf%C3%A9', 'café', 'sp ace', '%252e%252e', '(1,2)'];
const ODD_DIRS = ['', '%2F', 'a%2Fb'];
const UNSAFE = ['..%2F', '%2e%2e%2F', '%00', 'x%0Ay', '.%2F'];
const NAMES = ['f.ts', 'seg-1.m4s', 'init.mp4', 'k.key', 'x%20y.ts', '%2e%2e.ts', 'a%2Fb.ts'];
const LEADS = [
  '',
  './',
  '../',
  '../../../../',
  '/',
  '//cdn.example.com/',
  'https://cdn.example.com/',
  'HTTPS://CDN.EXAMPLE.COM/',
  'https://other.example.com/',
];
const SKIPPED = ['skd://key-1', 'data:text/plain;base64,AAAA', 'ftp://cdn.example.com/x.ts'];

const query = fc.option(fc.constantFrom('?q=1', '?q=2', '?sig=a%2Fb', '#frag'), { nil: '' });

/** A URI to a file: directories may be odd or (rarely) unsafe. */
const fileUri = fc
  .tuple(
    fc.constantFrom(...LEADS),
    fc.array(
      fc.oneof(
        { weight: 150, arbitrary: fc.constantFrom(...SAFE_DIRS, ...ODD_DIRS) },
        { weight: 1, arbitrary: fc.constantFrom(...UNSAFE) },
      ),
      { maxLength: 3 },
    ),
    fc.constantFrom(...NAMES),
    query,
  )
  .map(([lead, dirs, name, q]) => {
    const path = [...dirs, name].join('/');
    // A leading empty directory would turn the URI into "//host/...": another host, not an odd path.
    return `${lead}${path.startsWith('/') ? `z${path}` : path}${q}`;
  });

/** A URI to a playlist: directories that resolve the same way whichever spelling wins its key. */
const playlistUri = fc
  .tuple(
    fc.constantFrom('', './', '../', '/', 'https://cdn.example.com/', 'https://other.example.com/'),
    fc.array(fc.constantFrom(...SAFE_DIRS), { maxLength: 2 }),
    fc.constantFrom('v.m3u8', 'w.m3u8'),
    query,
  )
  .map(([lead, dirs, name, q]) => `${lead}${[...dirs, name].join('/')}${q}`);

const anyUri = fc.oneof({ weight: 12, arbitrary: fileUri }, { weight: 1, arbitrary: fc.constantFrom(...SKIPPED) });

const mediaLine = fc.oneof(
  anyUri.map((u) => `#EXTINF:4,\n${u}`),
  fc.tuple(anyUri, fc.nat(999)).map(([u, n]) => `#EXTINF:4,\n#EXT-X-BYTERANGE:100@${n}\n${u}`),
  anyUri.map((u) => `#EXT-X-MAP:URI="${u}"`),
  anyUri.map((u) => `#EXT-X-KEY:METHOD=SAMPLE-AES,URI="${u}",KEYFORMAT="identity"`),
  anyUri.map((u) => `#EXT-X-PART:DURATION=1,URI="${u}"`),
);

const mediaBody = fc
  .tuple(fc.array(mediaLine, { minLength: 1, maxLength: 12 }), fc.constantFrom('\n', '\r\n'), fc.boolean())
  .map(
    ([lines, eol, bom]) =>
      `${bom ? '\ufeff' : ''}#EXTM3U${eol}#EXT-X-TARGETDURATION:4${eol}${lines.join(eol)}${eol}#EXT-X-ENDLIST${eol}`,
  );

const classArb = fc.record({
  variants: fc.array(playlistUri, { minLength: 1, maxLength: 5 }),
  bodies: fc.array(mediaBody, { minLength: 5, maxLength: 5 }),
  prefix: fc.constantFrom('', 'dest/', 'a/b/'),
});

/** Serves the same body for every spelling of a playlist URL that maps to the same key. */
function fetcherFor(pages: Map<string, string>, master: URL): PlaylistFetcher {
  return {
    async fetchText(url) {
      const body = pages.get(referenceKey(new URL(url), master, ''));
      if (body === undefined) throw new Error(`no page for ${url}`);
      return { url, body, contentType: undefined };
    },
  };
}

describe('property: random well-formed classes', () => {
  it('never yield a key outside the prefix, never a file twice, and miss nothing', async () => {
    await fc.assert(
      fc.asyncProperty(classArb, async ({ variants, bodies, prefix }) => {
        const master = new URL(MASTER);
        const masterBody = `#EXTM3U\n${variants.map((v, i) => `#EXT-X-STREAM-INF:BANDWIDTH=${i + 1}\n${v}`).join('\n')}\n`;
        const pages = new Map<string, string>([[referenceKey(master, master, ''), masterBody]]);
        const expected = new Set<string>([referenceKey(master, master, prefix)]);
        const firstUrl = new Map<string, URL>();
        variants.forEach((v, i) => {
          const url = new URL(v, master);
          const k = referenceKey(url, master, '');
          if (!pages.has(k)) pages.set(k, bodies[i]!);
          if (!firstUrl.has(k)) firstUrl.set(k, url);
        });
        let unsafe = false;
        // Two references that are different files (host + path, percent-encoding normalised) but share a key.
        const identities = new Map<string, Set<string>>();
        const note = (u: URL) => {
          const key = referenceKey(u, master, prefix);
          const identity = `${u.host.toLowerCase()}${u.pathname.replace(/%([0-9a-f]{2})/gi, (_m, h: string) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(parseInt(h, 16))) ? String.fromCharCode(parseInt(h, 16)) : `%${h.toUpperCase()}`))}`;
          identities.set(key, (identities.get(key) ?? new Set()).add(identity));
          expected.add(key);
        };
        for (const [k, url] of firstUrl) {
          note(url);
          for (const m of pages.get(k)!.matchAll(/URI="([^"]*)"|^(?!#)(\S.*)$/gm)) {
            const uri = (m[1] ?? m[2])!.trim();
            const ref = new URL(uri, url);
            if (ref.protocol !== 'http:' && ref.protocol !== 'https:') continue;
            // Resolution may drop an unsafe segment ("..%2F/../f.ts"): judge what is left.
            if (UNSAFE.some((u) => ref.pathname.toLowerCase().includes(u.toLowerCase()))) unsafe = true;
            else note(ref);
          }
        }
        const collision = [...identities.values()].some((ids) => ids.size > 1);

        let plan;
        try {
          plan = await planClass(MASTER, fetcherFor(pages, master), {
            limits: LIMITS,
            destPrefix: prefix,
            allowedHosts: ['cdn.example.com', 'other.example.com'],
          });
        } catch (err) {
          // The only acceptable refusals: a reference that would escape the prefix once decoded, or two
          // different files that would share a key (never silently: the plan names both).
          expect(err).toBeInstanceOf(PlaylistError);
          const code = (err as PlaylistError).code;
          expect(['UNSAFE_KEY', 'KEY_COLLISION']).toContain(code);
          expect(code === 'UNSAFE_KEY' ? unsafe : collision).toBe(true);
          return;
        }
        expect(unsafe).toBe(false);
        expect(collision).toBe(false);
        const keys = plan.map((f) => f.key);
        for (const key of keys) {
          expect(key.startsWith(prefix)).toBe(true);
          expect(key.startsWith('/')).toBe(false);
          const rest = key.slice(prefix.length).split('/');
          expect(rest.every((s) => s !== '' && s !== '.' && s !== '..')).toBe(true);
          expect(/\p{Cc}/u.test(key)).toBe(false);
        }
        expect(new Set(keys).size).toBe(keys.length);
        expect(new Set(plan.map((f) => f.src)).size).toBe(plan.length);
        expect([...keys].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))).toEqual(keys);
        expect(new Set(keys)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});
