// Issue 24 end to end: the sample library's fMP4 classes publish manifest.mpd beside the master playlist;
// the local pipeline (ALSO_COPY_MANIFESTS=manifest.mpd, as `npm start` sets it) copies both, byte for byte,
// and every URL the copied MPDs imply names an object in the bucket.
import { describe, expect, it } from 'vitest';
import { copyKeyOf } from '../../lab/bucket-check.ts';
import { startLocalPipeline } from '../../lab/local-pipeline.ts';
import { copiedReferences, findDanglingReferences } from '../../lab/playlist-references.ts';
import type { ObjectStore } from '../../src/domain/ports/object-store.ts';
import { testLogger } from '../helpers/stack.ts';

describe('issue 24: DASH classes copy too (end to end)', () => {
  it('copies each DASH manifest beside its master with every file it names, and the bucket check reads MPDs', async () => {
    const p = await startLocalPipeline({
      library: { classes: 5, variants: 2, segmentsPerRendition: 3, segmentBytes: 4 * 1024, seed: 'dash' },
      log: testLogger(),
    });
    try {
      expect(p.env.ALSO_COPY_MANIFESTS).toBe('manifest.mpd');
      const dash = p.library.classes.filter((c) => c.features.includes('dash'));
      expect(dash).toHaveLength(3);
      const scanId = await p.scan();
      await p.settle({ timeoutMs: 180_000 });
      const report = await p.evaluate(scanId);
      expect(report.verified).toMatchObject({ mismatches: 0, missing: 0, extra: 0, dangling: 0 });
      expect(report.classes.every((c) => c.status === 'COMPLETE')).toBe(true);
      for (const c of p.library.classes) {
        const r = report.classes.find((x) => x.classId === c.id)!;
        // Every file of the class, the .mpd included for the DASH ones (the TS classes have none: skipped).
        expect(r.files).toBe(c.files);
      }

      // The copied MPDs name only objects of the copy, read as a player of the copy reads them.
      let named = 0;
      for (const c of dash) {
        const mpdPath = c.paths.find((x) => x.endsWith('/manifest.mpd'))!;
        const key = copyKeyOf(p.cfg.destPrefix, c.id, p.origin.url, mpdPath);
        const chunks: Buffer[] = [];
        for await (const b of await p.deps.store.get(key)) chunks.push(b as Buffer);
        const refs = copiedReferences(key, Buffer.concat(chunks).toString('utf8'), p.cfg.destPrefix);
        expect(refs.length).toBeGreaterThan(0);
        named += refs.length;
      }
      expect(report.verified.links).toBeGreaterThan(named);

      // The bucket check learns DASH: a file an MPD names, missing from the bucket, is reported against the MPD.
      const victim = copyKeyOf(
        p.cfg.destPrefix,
        dash[0]!.id,
        p.origin.url,
        dash[0]!.paths.find((x) => /\/init\.mp4$/.test(x))!,
      );
      const without: Pick<ObjectStore, 'list' | 'get'> = {
        async *list(prefix) {
          for await (const o of p.deps.store.list(prefix)) if (o.key !== victim) yield o;
        },
        get: (k) => p.deps.store.get(k),
      };
      const dangling = await findDanglingReferences(without, p.cfg.destPrefix);
      expect(dangling.some((d) => d.playlist.endsWith('/manifest.mpd') && d.key === victim)).toBe(true);
      expect(dangling.some((d) => d.playlist.endsWith('.m3u8') && d.key === victim)).toBe(true);
    } finally {
      await p.stop();
    }
  });
});
