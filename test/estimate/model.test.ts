import { describe, expect, it } from 'vitest';
import {
  allocateProbes,
  chooseProbes,
  profileClass,
  type ClassMeasurement,
  type SizeSource,
} from '../../src/estimate/class-profile.ts';
import { extrapolate, type EstimateSettings } from '../../src/estimate/model.ts';
import { costOf, loadPrices } from '../../src/estimate/prices.ts';
import { estimateTotal, seededRandom } from '../../src/estimate/stats.ts';
import type { FileKind, PlannedFile } from '../../src/hls/types.ts';
import { generateLibrary } from '../../lab/library.ts';

const MiB = 1024 * 1024;
const shape = { chunkFiles: 25, partSizeBytes: 16 * MiB };
const file = (key: string, kind: FileKind): PlannedFile => ({ key, kind, src: `https://cdn.example/${key}` });

function measured(
  classId: string,
  files: PlannedFile[],
  sizes: Record<string, number>,
  over: Partial<ClassMeasurement> = {},
): ClassMeasurement {
  const known = new Map<string, { bytes: number; source: SizeSource }>(
    Object.entries(sizes).map(([k, bytes]) => [k, { bytes, source: k.endsWith('.m3u8') ? 'playlist' : 'probe' }]),
  );
  return {
    classId,
    title: classId,
    manifestUrl: `https://cdn.example/${classId}/master.m3u8`,
    files,
    known,
    strata: [],
    missing: new Set(),
    crawlSeconds: 0.5,
    originRequests: files.length,
    ...over,
  };
}

describe('estimate: probes within a class', () => {
  it('allocates probes: two per stratum first, the rest in proportion', () => {
    expect(allocateProbes([10, 4, 1], 100)).toEqual([10, 4, 1]);
    // Base 2, 2, 1; 4 left over room 8 : 2 : 0 → 3.2, 0.8, 0 → floors 3, 0, 0 and the largest remainder (0.8) gets the last.
    expect(allocateProbes([10, 4, 1], 9)).toEqual([5, 3, 1]);
    expect(allocateProbes([10, 4, 1], 4)).toBeUndefined();
  });

  it('groups like files (kind and directory), coarser when the budget is short', () => {
    const files = [
      ...['a', 'b'].flatMap((d) => [1, 2, 3, 4].map((i) => file(`${d}/s${i}.ts`, 'segment'))),
      file('a/key.bin', 'key'),
    ];
    const fine = chooseProbes(files, 100, seededRandom('x'))!;
    expect(fine.map((s) => s.name).sort()).toEqual(['key a/', 'segment a/', 'segment b/']);
    expect(fine.flatMap((s) => s.probe)).toHaveLength(9);
    // 5 probes: kind+directory needs 2 + 2 + 1; kind alone needs 2 + 1, leaving 2 more for the segments.
    const tight = chooseProbes(files, 4, seededRandom('x'))!;
    expect(tight.map((s) => s.name).sort()).toEqual(['key', 'segment']);
    expect(tight.find((s) => s.name === 'segment')!.probe).toHaveLength(3);
    expect(chooseProbes(files, 1, seededRandom('x'))).toBeUndefined();
  });

  it('a class measured on a subsample: stratified total and its variance, by hand', () => {
    const files = [
      file('c/a/index.m3u8', 'playlist'),
      file('c/master.m3u8', 'playlist'),
      ...[1, 2, 3, 4].map((i) => file(`c/a/s${i}.ts`, 'segment')),
    ];
    const m = measured(
      'c',
      files,
      { 'c/master.m3u8': 100, 'c/a/index.m3u8': 200, 'c/a/s1.ts': 1000, 'c/a/s3.ts': 3000 },
      {
        strata: [
          {
            name: 'segment c/a/',
            keys: ['c/a/s1.ts', 'c/a/s2.ts', 'c/a/s3.ts', 'c/a/s4.ts'],
            probe: ['c/a/s1.ts', 'c/a/s3.ts'],
          },
        ],
      },
    );
    const p = profileClass(m, shape);
    // Segments: 4 × mean(1000, 3000) = 8,000; Var = 4²(1 − 2/4) s²/2 with s² = 2,000,000 → 8,000,000.
    expect(p.bytes).toEqual({ value: 100 + 200 + 8000, variance: 8_000_000 });
    expect(p.s3Requests).toEqual({ value: 6, variance: 0 });
    expect(p.files).toBe(6);
    expect(p.playlists).toBe(2);
    expect(p.sizeSources).toEqual({ playlist: 2, byterange: 0, probe: 2, estimated: 2 });
    expect(p.byKind).toEqual({ playlist: { files: 2, bytes: 300 }, segment: { files: 4, bytes: 8000 } });
    // Each probed segment stands for two.
    expect(p.sizes.filter((w) => w.weight === 2).map((w) => w.value)).toEqual([1000, 3000]);
  });

  it('files the origin no longer has count as files of no bytes', () => {
    const files = [file('c/master.m3u8', 'playlist'), file('c/s1.ts', 'segment'), file('c/s2.ts', 'segment')];
    const p = profileClass(
      measured(
        'c',
        files,
        { 'c/master.m3u8': 100, 'c/s1.ts': 500 },
        {
          strata: [{ name: 'segment c/', keys: ['c/s1.ts', 'c/s2.ts'], probe: ['c/s1.ts', 'c/s2.ts'] }],
          missing: new Set(['c/s2.ts']),
        },
      ),
      shape,
    );
    expect(p.bytes).toEqual({ value: 600, variance: 0 });
    expect(p.missing).toBe(1);
  });
});

const settings: EstimateSettings = {
  chunkFiles: 25,
  partSizeBytes: 16 * MiB,
  transferConcurrency: 8,
  scanPageSize: 500,
  transferBatchSize: 8,
  transferMaxConcurrency: 200,
  crawlerMaxConcurrency: 5,
  scannerMaxConcurrency: 2,
  accountConcurrency: 1000,
  transferMemoryMb: 1024,
  otherMemoryMb: 512,
  architecture: 'arm64',
  cpuMsPerFile: 3,
  workerMBps: 14,
  fileLatencyMs: 100,
  scanSecondsPerPage: 1,
  originPlace: 'outside',
};

describe('estimate: from the sample to the library', () => {
  const a = profileClass(
    measured('a', [file('a/master.m3u8', 'playlist'), ...[1, 2, 3].map((i) => file(`a/s${i}.ts`, 'segment'))], {
      'a/master.m3u8': 100,
      'a/s1.ts': 1000,
      'a/s2.ts': 1000,
      'a/s3.ts': 1000,
    }),
    shape,
  );
  const b = profileClass(
    measured('b', [file('b/master.m3u8', 'playlist'), ...[1, 2, 3, 4, 5].map((i) => file(`b/s${i}.ts`, 'segment'))], {
      'b/master.m3u8': 100,
      ...Object.fromEntries([1, 2, 3, 4, 5].map((i) => [`b/s${i}.ts`, 2000])),
    }),
    shape,
  );
  const prices = loadPrices();
  const report = extrapolate({
    profiles: [a, b],
    libraryClasses: 10,
    catalogDocuments: 10,
    confidence: 0.95,
    settings,
    prices,
    pricesFile: 'prices.json',
    sampleSeconds: 1,
  });

  it('totals, by hand', () => {
    // Files 4 and 6: 10 × 5 = 50; Var = 10² × (1 − 2/10) × 2 / 2 = 80; half = 12.706 × 8.944 = 113.6 → low clamps to the sample's 10.
    expect(report.library.files.mid).toBe(50);
    expect(report.library.files.low).toBe(10);
    expect(report.library.files.high).toBeCloseTo(50 + 12.7062 * Math.sqrt(80), 2);
    // Bytes 3,100 and 10,100: 10 × 6,600.
    expect(report.library.bytes.mid).toBe(66_000);
    expect(report.sample).toMatchObject({ classes: 2, files: 10, bytes: 13_200, playlists: 2, failedClasses: 0 });
    expect(report.library.perClass).toMatchObject({ files: 5, bytes: 6600, playlists: 1 });
  });

  it('requests by service', () => {
    // Every file is one PutObject.
    expect(report.requests.s3).toBe(50);
    // Transfer: 10 chunks (one per class) in batches of 8 → 2; crawler: one per class; scanner: 1 page + the string-id phase.
    expect(report.requests.lambda).toBe(2 + 10 + 2);
    expect(report.usage.lambda.byFunction.transfer.invocations).toBe(2);
    // 6 per class + 2 per chunk (one chunk each), and the scan: 2 pages of a claim, a record and a batch read.
    expect(report.requests.dynamodb).toBe(10 * 8 + 6);
    expect(report.usage.origin).toMatchObject({ requests: 50 + 10, bytes: 66_000 + 1000 });
  });

  it('costs are the cost model applied to the usage', () => {
    const u = report.usage;
    const c = costOf(
      {
        s3: { putRequests: u.s3.putRequests },
        sqs: { requests: u.sqs.requests },
        dynamodb: { readUnits: u.dynamodb.readUnits, writeUnits: u.dynamodb.writeUnits },
        lambda: { invocations: u.lambda.invocations, gbSeconds: u.lambda.gbSeconds, architecture: 'arm64' },
        origin: u.origin,
        storedBytes: report.library.bytes.mid,
      },
      prices,
    );
    expect(report.costUsd.total).toBeCloseTo(c.total, 12);
    expect(report.costUsd.s3).toBeCloseTo((50 / 1000) * 0.005, 12);
    expect(report.costUsd.range.low).toBeLessThanOrEqual(report.costUsd.total);
    expect(report.costUsd.range.high).toBeGreaterThanOrEqual(report.costUsd.total);
    expect(report.wallSeconds.low).toBeLessThanOrEqual(report.wallSeconds.mid);
    expect(report.wallSeconds.mid).toBeLessThanOrEqual(report.wallSeconds.high);
  });

  it('file sizes: weighted quantiles and buckets', () => {
    // 100 (×2), 1,000 (×3), 2,000 (×5): the median is 1,000.
    expect(report.library.fileSizes).toMatchObject({ p50: 1000, p90: 2000, max: 2000, mean: 1320 });
    expect(report.library.fileSizes.buckets[0]).toMatchObject({ below: 16 * 1024, share: 1, files: 50 });
    expect(report.library.byKind).toEqual({
      playlist: { files: 10, bytes: 1000 },
      segment: { files: 40, bytes: 65_000 },
    });
  });

  it("the interval covers the demo library's true totals about as often as it says", () => {
    // 24 classes as different as the demo makes them (a byte-ranged class of a few files among hundreds-file classes).
    const lib = generateLibrary({
      classes: 24,
      segmentsPerRendition: 6,
      segmentBytes: 8 * 1024,
      variants: 2,
      seed: 'coverage',
    });
    const values = lib.classes.map((c) => c.files);
    const random = seededRandom('coverage');
    let covered = 0;
    const trials = 2000;
    for (let t = 0; t < trials; t++) {
      const idx = values.map((_, i) => i);
      for (let i = 0; i < 8; i++) {
        const j = i + Math.floor(random() * (idx.length - i));
        [idx[i], idx[j]] = [idx[j]!, idx[i]!];
      }
      const r = estimateTotal({ values: idx.slice(0, 8).map((i) => values[i]!) }, 24, 0.95);
      if (r.low <= lib.totalFiles && lib.totalFiles <= r.high) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.85);
  });
});
