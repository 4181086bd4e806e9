import type { Deps } from '../src/wiring/deps.ts';
import { invocationLogger, lambdaEntry, type InvocationContext } from '../src/wiring/lambda.ts';
import { runVerify, selectClasses, type VerifyRunSummary } from '../src/verify/run.ts';

/** The watermark of scheduled verifications (beside the scans' own, in the same ledger item kind). */
export const VERIFY_WATERMARK = 'verify';

/** What a scheduled verification did: the classes completed since the last run, each verified. */
export interface VerifyRunResult extends VerifyRunSummary {
  since: string | undefined;
}

/**
 * EventBridge schedule (`verifySchedule`) → the same check as `flants verify`, for the classes
 * completed since the last run finished (all COMPLETE classes on the first run). Each result is kept
 * on its class record, and every class's findings are published as the VerifyFindings metric, which
 * the verify alarm watches. The watermark moves only after every class of the run was verified.
 */
export function createHandler(deps: Deps): (event: unknown, context?: InvocationContext) => Promise<VerifyRunResult> {
  const base = deps.log.child({ fn: 'verify' });
  const first = { cold: true };
  return async (_event, context) => {
    const log = invocationLogger(base, context, first);
    const startedAt = new Date().toISOString();
    const since = await deps.ledger.getWatermark(VERIFY_WATERMARK);
    const targets = await selectClasses(deps.ledger, { status: 'COMPLETE', completedSince: since ?? '' });
    const summary = await runVerify(deps.ledger, deps.store, targets, {
      destPrefix: deps.cfg.destPrefix,
      maxPlaylistBytes: deps.cfg.hls.maxPlaylistBytes,
      record: true,
      onClass: (v) => {
        const findings = Object.values(v.counts).reduce<number>((n, c) => n + (c ?? 0), 0);
        deps.events.emit('classVerified', { classId: v.classId, findings, error: v.verdict === 'ERROR' });
        if (v.verdict !== 'OK')
          log.warn('class verification', {
            classId: v.classId,
            gen: v.gen,
            result: v.result,
            findings: v.findings.slice(0, 20),
          });
      },
    });
    log.info('verification run', { since, ...summary });
    // A class that could not be verified is tried again next run: the watermark stays.
    if (summary.errors === 0) await deps.ledger.advanceWatermark(VERIFY_WATERMARK, startedAt, `verify-${startedAt}`);
    return { since, ...summary };
  };
}

/** The Lambda handler: dependencies from the environment, once per container. */
export const handler = lambdaEntry(createHandler);
