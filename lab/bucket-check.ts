// The lab's bucket check: every object the sample library should have produced, compared with the
// origin's bytes, strays found, and every copied playlist's references resolved to objects in the bucket.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { classRoot, keyForUrl } from '../src/hls/keys.ts';
import type { Deps } from '../src/wiring/deps.ts';
import { mapLimit } from '../src/util/concurrency.ts';
import { copiedReferences } from './playlist-references.ts';
import type { SampleLibrary } from './library.ts';
import { originUrl } from './sample-catalog.ts';
import type { DemoReport } from './demo.ts';

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Where the copy of the library file at `path` (served from `originBase`) sits: DEST_PREFIX/<class>/<host>/<path>. */
export function copyKeyOf(prefix: string, classId: string, originBase: string, path: string): string {
  const url = new URL(originUrl(originBase, path));
  return keyForUrl(url, url, classRoot(prefix, classId));
}

/**
 * Checks every object the library should have produced against the origin's bytes, finds strays,
 * and resolves every URI of every copied playlist against where that playlist's copy sits (its
 * class/host root standing for the origin's root, as a player of the copy sees it): each must name
 * an object in the bucket.
 */
export async function verifyBucket(
  deps: Pick<Deps, 'store'>,
  library: SampleLibrary,
  prefix: string,
  originBase: string,
  gone: ReadonlySet<string> = new Set(),
): Promise<DemoReport['verified']> {
  const expected = new Map<string, { path: string; classId: string }>();
  // Files the origin lost: their classes are FAILED listing them, so references to them are not dangling.
  const lost = new Set<string>();
  for (const cls of library.classes) {
    for (const path of cls.paths) {
      const key = copyKeyOf(prefix, cls.id, originBase, path);
      if (gone.has(path)) lost.add(key);
      else expected.set(key, { path, classId: cls.id });
    }
  }
  const listed = new Map<string, number>();
  for await (const o of deps.store.list(prefix)) listed.set(o.key, o.size);
  const problems: string[] = [];
  let mismatches = 0;
  let missing = 0;
  let links = 0;
  let dangling = 0;
  await mapLimit([...expected], 16, async ([key, { path }]) => {
    if (!listed.has(key)) {
      missing++;
      problems.push(`missing: ${key}`);
      return;
    }
    const [stored, original] = await Promise.all([readAll(await deps.store.get(key)), readAll(library.read(path))]);
    if (sha256(stored) !== sha256(original)) {
      mismatches++;
      problems.push(`mismatch: ${key}`);
      return;
    }
    if (library.file(path)?.kind !== 'playlist') return;
    // Resolved as a player of the copy resolves them (lab/playlist-references.ts, also the e2e tests' bucket check).
    for (const ref of copiedReferences(key, stored.toString('utf8'), prefix)) {
      links++;
      const target = 'key' in ref ? ref.key : undefined;
      if (target === undefined || (!listed.has(target) && !lost.has(target))) {
        dangling++;
        problems.push(
          `dangling: ${key} references ${ref.uri}, which resolves to ${target ?? ('error' in ref ? ref.error : '?')}`,
        );
      }
    }
  });
  const extra = [...listed.keys()].filter((k) => !expected.has(k));
  for (const k of extra) problems.push(`unexpected object: ${k}`);
  return {
    objects: listed.size,
    mismatches,
    missing,
    extra: extra.length,
    links,
    dangling,
    problems: problems.slice(0, 50),
  };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
