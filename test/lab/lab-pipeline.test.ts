import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startLocalPipeline } from '../../lab/local-pipeline.ts';
import { testLogger } from '../helpers/stack.ts';

describe('the lab pipeline', () => {
  it('settle gives up at its deadline naming the classes it still waits for (item 2)', async () => {
    // No workers: nothing can settle, so the wait must end in a message, not in a silent return.
    const p = await startLocalPipeline({
      library: { classes: 2, variants: 1, segmentsPerRendition: 2, segmentBytes: 1024, seed: 'unsettled' },
      log: testLogger(),
      noRunner: true,
    });
    try {
      await p.scan();
      await expect(p.settle({ timeoutMs: 1_500 })).rejects.toThrow(
        /^the pipeline did not settle within 2 s: still waiting for 2 of 2 classes to be COMPLETE or FAILED \(.+ not in the ledger; .+ not in the ledger\); queues still holding jobs: scan 1$/,
      );
      // The demo reports an unfinished run instead.
      expect(await p.settle({ timeoutMs: 500, orReturn: true })).toEqual([]);
      expect(p.logFile).toBeUndefined();
    } finally {
      await p.stop();
    }
  });

  it('keeps its log file only while it runs, unless told to keep it (item 9)', async () => {
    const p = await startLocalPipeline({
      library: { classes: 1, variants: 1, segmentsPerRendition: 1, segmentBytes: 1024, seed: 'log' },
      noRunner: true,
    });
    const logFile = p.logFile!;
    expect(logFile).toMatch(/flants-demo-.*\.log$/);
    expect(existsSync(logFile)).toBe(true);
    await p.stop();
    expect(existsSync(logFile)).toBe(false);
  });
});
