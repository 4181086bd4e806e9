import { InvalidArgumentError, type Command } from 'commander';
import { setupResources } from '../ops/setup.ts';
import { describeDrift } from '../ops/queue-drift.ts';
import { loadServiceDefinition } from '../ops/service-definition.ts';
import { cliDeps, say } from './context.ts';

/** Registers `flants setup`: create what serverless.yml declares on the configured endpoints. */
export function registerSetup(program: Command): void {
  program
    .command('setup')
    .description(
      'Create the queues, DLQs, table and bucket that serverless.yml declares, on the endpoints the environment names (idempotent)',
    )
    .option(
      '--visibility-timeout <seconds>',
      "override every source queue's visibility timeout (short values make local retries quick)",
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 43_200)
          throw new InvalidArgumentError('--visibility-timeout must be 0-43200 seconds');
        return n;
      },
    )
    .option('--json', 'print what exists as JSON')
    .action(async (o: { visibilityTimeout?: number; json?: boolean }) => {
      const deps = cliDeps();
      try {
        const def = loadServiceDefinition(deps.cfg.stage, deps.cfg.region ? { region: deps.cfg.region } : {});
        const res = await setupResources(
          deps.cfg,
          def,
          deps.aws,
          o.visibilityTimeout === undefined ? {} : { visibilityTimeout: o.visibilityTimeout },
        );
        if (o.json) return say(JSON.stringify(res));
        say(`Stage ${deps.cfg.stage} is ready:`);
        for (const q of res.queues) {
          say(`  queue   ${q.name}${q.deadLetter ? ` → DLQ ${q.deadLetter} after ${q.maxReceiveCount} receives` : ''}`);
          if (q.updated) say(`          changed to serverless.yml's settings: ${describeDrift(q.updated)}`);
        }
        say(`  table   ${res.table}`);
        say(`  bucket  ${res.bucket}`);
        if (res.lifecycle === 'set')
          say('          incomplete multipart uploads are aborted after a day (lifecycle rule)');
        if (res.lifecycle === 'existing-bucket')
          say(
            '          existing bucket: its lifecycle rules are left alone (docs/deploy.md: add the rule that aborts incomplete multipart uploads)',
          );
        if (res.note) say(`  note    ${res.note}`);
      } finally {
        await deps.close();
      }
    });
}
