import { describe, expect, it } from 'vitest';
import { runDemo } from '../../lab/demo.ts';
import { generateLibrary } from '../../lab/library.ts';
import { testLogger } from '../helpers/stack.ts';

// The whole pipeline on real local servers: SQS and S3 (fauxqs), DynamoDB (dynoxide), MongoDB
// (CongoDB), a real HTTP origin, the handlers Lambda would run, driven by the local runner.
const library = { classes: 6, segmentsPerRendition: 5, segmentBytes: 24 * 1024, variants: 2, seed: 'e2e' };
const expected = generateLibrary(library);

describe('scan → crawl → transfer, end to end', () => {
  it('copies every file of every valid class byte for byte, with exact counters', async () => {
    // Pages of 3 catalog documents: the scan continues itself page by page, then through string ids.
    const report = await runDemo({
      library,
      log: testLogger(),
      env: { TRANSFER_CHUNK_FILES: '7', SCAN_PAGE_SIZE: '3' },
      timeoutMs: 120_000,
    });
    const documents = expected.classes.length + expected.skipped.length;
    expect(documents % 3).not.toBe(0);
    expect(report.runner.messages.scan).toBe(Math.ceil(documents / 3) + 1);
    expect(report.verified).toMatchObject({
      mismatches: 0,
      missing: 0,
      extra: 0,
      dangling: 0,
      objects: expected.totalFiles,
    });
    // Relative, ../ and root-relative references and signed-style queries all resolve inside each class's copy.
    expect(report.verified.links).toBeGreaterThan(expected.totalFiles - expected.classes.length);
    for (const cls of expected.classes) {
      expect(report.classes.find((c) => c.classId === cls.id)).toMatchObject({
        status: 'COMPLETE',
        files: cls.files,
        bytes: cls.bytes,
        failedFiles: 0,
      });
    }
    expect(report.skipped.map((s) => s.reason).sort()).toEqual([
      'aborted',
      'missing manifestUrl',
      'not broadcast yet',
      'test class',
    ]);
    expect(report.ok).toBe(true);
    // Every crawl and transfer job succeeded first time: nothing was retried or dead-lettered.
    expect(report.runner.failures).toEqual({ scan: 0, crawl: 0, transfer: 0 });
    expect(report.runner.messages.crawl).toBe(expected.classes.length);
    expect(report.completions).toEqual(Object.fromEntries(expected.classes.map((c) => [c.id, 1])));
  });

  it('counts each file once and completes each class once when every transfer job is delivered twice', async () => {
    const report = await runDemo({
      library,
      log: testLogger(),
      transferCopies: 2,
      env: { TRANSFER_CHUNK_FILES: '7' },
      timeoutMs: 120_000,
    });
    expect(report.ok).toBe(true);
    for (const cls of expected.classes) {
      expect(report.classes.find((c) => c.classId === cls.id)).toMatchObject({
        status: 'COMPLETE',
        files: cls.files,
        bytes: cls.bytes,
      });
    }
    // Twice as many transfer deliveries as chunks, yet the counters above are exact.
    const chunks = expected.classes.reduce((n, c) => n + Math.ceil(c.files / 7), 0);
    expect(report.runner.messages.transfer).toBe(2 * chunks);
    expect(report.completions).toEqual(Object.fromEntries(expected.classes.map((c) => [c.id, 1])));
    expect(report.verified).toMatchObject({ mismatches: 0, missing: 0, extra: 0 });
  });
});
