import type { Command } from 'commander';
import { scanRequest } from '../domain/jobs/envelopes.ts';
import { judgeClass } from '../domain/planning/class-rules.ts';
import { newPageToken, newScanId } from '../domain/jobs/ids.ts';
import { enqueueLane, queueOf } from '../domain/lifecycle/lanes.ts';
import { cliDeps, say } from './context.ts';

/** Registers `flants enqueue` (one class, by hand) and `flants scan` (the whole catalog, as the cron does). */
export function registerEnqueue(program: Command): void {
  program
    .command('enqueue <classId>')
    .description(
      'Send one class through the scanner (validated like any catalog class); --force copies a COMPLETE class again',
    )
    .option('--force', 'copy again even if the class is COMPLETE')
    .action(async (classId: string, o: { force?: boolean }) => {
      const deps = cliDeps();
      try {
        // Say now what the scanner will decide, when the catalog is reachable from here.
        let ready: { title: string; manifestUrl: string } | undefined;
        if (deps.cfg.mongo.uri || deps.cfg.mongo.uriSsmParam) {
          const doc = await (await deps.catalog()).get(classId);
          if (!doc)
            throw new Error(
              `unknown class ${classId}: no document with that _id in collection ${deps.cfg.mongo.collection}`,
            );
          const verdict = judgeClass(doc, deps.cfg.mongo.fields, deps.cfg.originAllowedHosts);
          if (!verdict.ok)
            throw new Error(
              `class ${classId} will not be copied: ${verdict.reason}${verdict.detail ? ` (${verdict.detail})` : ''}`,
            );
          ready = verdict.cls;
        }
        const req = scanRequest({ mode: 'class', classId, ...(o.force ? { force: true } : {}) });
        // A class named by hand is wanted now: it travels the fresh lane (FRESH_ENQUEUE).
        const lane = enqueueLane(deps.cfg.fresh);
        await deps.queue.sendAll(queueOf('scan', lane), [req]);
        // Visible in `flants status` at once; the scanner would record the same.
        if (ready) await deps.ledger.markPending(classId, ready);
        const queueName = (lane === 'fresh' ? deps.cfg.freshQueueNames : deps.cfg.queueNames).scan.queue;
        say(
          `Enqueued class ${classId}${o.force ? ' (forced)' : ''} on ${queueName}${
            ready
              ? '.'
              : ': not checked against the catalog (MONGODB_URI is not set here); the scanner checks it and dead-letters an id the catalog does not have. Set MONGODB_URI to check it now.'
          }`,
        );
      } finally {
        await deps.close();
      }
    });

  program
    .command('scan')
    .description(
      'Enqueue a catalog scan as the schedule does: the classes changed or ended since the last scan (the whole catalog the first time)',
    )
    .option('--full', 'read the whole catalog, whatever the watermark')
    .option('--force', 'copy COMPLETE classes again too (implies --full)')
    .option(
      '--recheck',
      'check COMPLETE classes for changes at the origin now (what the recheck schedule does); a changed class is copied again as a new generation, only its new or changed files written',
    )
    .option('--class <classId>', 'with --recheck: only this class')
    .action(async (o: { full?: boolean; force?: boolean; recheck?: boolean; class?: string }) => {
      if (o.class !== undefined && !o.recheck)
        throw new Error('--class goes with --recheck (to copy one class, use "flants enqueue <classId>")');
      if (o.recheck && (o.full || o.force))
        throw new Error(
          '--recheck checks COMPLETE classes; --full and --force are catalog scans: send them separately',
        );
      const deps = cliDeps();
      try {
        const scanId = newScanId();
        if (o.recheck) {
          const req = scanRequest({
            mode: 'recheck',
            // The token claims the first page for this message, also when `flants redrive` brings it back.
            ...(o.class !== undefined ? { classId: o.class } : { scanId, token: newPageToken() }),
          });
          await deps.queue.sendAll('scan', [req]);
          say(
            o.class !== undefined
              ? `Enqueued a change check of class ${o.class} on ${deps.cfg.queueNames.scan.queue}.`
              : `Enqueued change check ${scanId} of every COMPLETE class on ${deps.cfg.queueNames.scan.queue}.`,
          );
          return;
        }
        const full = Boolean(o.full || o.force);
        const req = scanRequest({
          mode: 'catalog',
          scanId,
          token: newPageToken(),
          ...(full ? { full: true } : {}),
          ...(o.force ? { force: true } : {}),
        });
        await deps.queue.sendAll('scan', [req]);
        say(`Enqueued ${full ? 'full' : 'incremental'} catalog scan ${scanId} on ${deps.cfg.queueNames.scan.queue}.`);
      } finally {
        await deps.close();
      }
    });
}
