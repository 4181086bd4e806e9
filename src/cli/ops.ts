import { InvalidArgumentError, type Command } from 'commander';
import { QUEUE_ROLES, type QueueRole } from '../domain/vocabulary.ts';
import { describeFreshness, formatSeconds } from '../views/freshness.ts';
import { buildReport, describeGone, describeVerified, reportToCsv } from '../views/report.ts';
import { redrive } from '../ops/redrive.ts';
import { describeClassAccount } from '../views/accounting.ts';
import { cliDeps, say } from './context.ts';
import { redriveLine } from './redrive-line.ts';
import { count } from '../util/plural.ts';

/** Registers `flants redrive` and `flants report`. */
export function registerOps(program: Command): void {
  program
    .command('redrive')
    .description('Move dead-lettered messages back to their source queues (all three, or one)')
    .option('--queue <role>', 'scan, crawl or transfer', (v) => {
      if (!QUEUE_ROLES.includes(v as QueueRole))
        throw new InvalidArgumentError('--queue must be scan, crawl or transfer');
      return v as QueueRole;
    })
    .option('--copy', 'receive/send/delete here instead of an SQS message move task')
    .option('--json', 'machine-readable result')
    .action(async (o: { queue?: QueueRole; copy?: boolean; json?: boolean }) => {
      const deps = cliDeps();
      try {
        const results = await redrive(deps.aws.sqs, deps.queue, o.queue ? [o.queue] : QUEUE_ROLES, {
          preferCopy: o.copy ?? false,
        });
        if (o.json) return say(JSON.stringify({ redriven: results }));
        for (const r of results) {
          const names = (r.lane === 'fresh' ? deps.cfg.freshQueueNames : deps.cfg.queueNames)[r.role];
          say(redriveLine(r, names.queue, names.dlq));
        }
      } finally {
        await deps.close();
      }
    });

  program
    .command('report')
    .description('Completion report: every class with its status, every failed file with its reason')
    .option('--json', 'JSON')
    .option('--csv', 'CSV (one row per class, one per failed file)')
    .action(async (o: { json?: boolean; csv?: boolean }) => {
      const deps = cliDeps();
      try {
        const report = await buildReport(deps.ledger, deps.cfg.stage);
        if (o.json) return say(JSON.stringify(report, null, 2));
        if (o.csv) return void process.stdout.write(reportToCsv(report));
        const t = report.totals;
        say(
          `Stage ${report.stage}: ${count(t.classes, 'class', 'classes')} (${
            Object.entries(t.byStatus)
              .map(([s, n]) => `${n} ${s}`)
              .join(', ') || 'none'
          })`,
        );
        say(
          `Files: ${t.doneFiles}/${t.files} counted, ${t.failedFiles} failed${t.goneAtOrigin ? `, ${t.goneAtOrigin} gone at the origin (copies kept)` : ''}; ${(t.bytes / 1e6).toFixed(1)} MB`,
        );
        say(describeFreshness(report.freshness).replace(/^f/, 'F'));
        for (const c of report.classes) {
          const fresh = c.freshnessSeconds === undefined ? '' : `  fresh in ${formatSeconds(c.freshnessSeconds)}`;
          say(`  ${c.classId}  ${c.status.padEnd(12)} ${c.doneFiles}/${c.files} files${fresh}  ${c.title ?? ''}`);
          const account = describeClassAccount(c);
          if (account) say(`      ${account}`);
          if (c.removedCount)
            say(
              `      ${c.removedCount} file(s) of earlier copies no longer in the plan, left in the bucket: ${c.removedFiles.slice(0, 3).join(', ')}${c.removedCount > 3 ? ', ...' : ''}`,
            );
          const gone = describeGone(c.goneAtOrigin);
          if (gone) say(`      ${gone}`);
          const verified = describeVerified(c.verified);
          if (verified) say(`      ${verified}`);
        }
        if (report.failures.length) {
          say('Failed files:');
          for (const f of report.failures) say(`  ${f.classId}  ${f.key}  ${f.reason}`);
          say('Fix the cause, then "flants redrive" to retry them.');
        }
      } finally {
        await deps.close();
      }
    });
}
