// The entry every Lambda handler goes through (the pipeline's four by lambdaEntry, the dashboard by
// lambdaEntryOf itself): dependencies from the environment once per container, a step after each invocation.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lambdaEntryOf } from '../../src/wiring/lambda-entry.ts';

afterEach(() => vi.unstubAllEnvs());

describe('lambdaEntryOf', () => {
  it('builds from the environment on the first invocation only, and runs `after` after every one', async () => {
    vi.stubEnv('FLANTS_STAGE', 'entry-test');
    const built: string[] = [];
    const after: number[] = [];
    let calls = 0;
    const handler = lambdaEntryOf({
      build: (cfg) => {
        built.push(cfg.stage);
        return { stage: cfg.stage };
      },
      handler: (deps) => async (event: { fail?: boolean }) => {
        calls++;
        if (event.fail) throw new Error('handler failed');
        return `${deps.stage} ${calls}`;
      },
      after: () => void after.push(calls),
    });
    expect(built).toEqual([]);
    expect(await handler({})).toBe('entry-test 1');
    await expect(handler({ fail: true })).rejects.toThrow('handler failed');
    expect(await handler({})).toBe('entry-test 3');
    expect(built).toEqual(['entry-test']);
    expect(after).toEqual([1, 2, 3]);
  });

  it('a build that fails is tried again on the next invocation', async () => {
    let builds = 0;
    const handler = lambdaEntryOf({
      build: () => {
        if (++builds === 1) throw new Error('no credentials yet');
        return {};
      },
      handler: () => async () => 'ok',
    });
    await expect(handler(undefined)).rejects.toThrow('no credentials yet');
    expect(await handler(undefined)).toBe('ok');
    expect(builds).toBe(2);
  });
});
