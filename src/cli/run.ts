import { InvalidArgumentError, type Command } from 'commander';
import type { QueueRole } from '../config.ts';
import { startRunner } from '../ops/runner.ts';
import { loadServiceDefinition } from '../ops/service-definition.ts';
import { cliDeps, say } from './context.ts';

function concurrency(raw: string, prev: Partial<Record<QueueRole, number>> = {}): Partial<Record<QueueRole, number>> {
  const m = /^(scan|crawl|transfer)=(\d+)$/.exec(raw);
  if (!m || Number(m[2]) < 1) throw new InvalidArgumentError('--concurrency takes <scan|crawl|transfer>=<n>, e.g. transfer=4');
  return { ...prev, [m[1] as QueueRole]: Number(m[2]) };
}

/** Registers `flants run`: the three workers in this process, against the configured endpoints. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Run the scanner, crawler and transfer workers in this process against the configured endpoints, until stopped')
    .option('--until-idle', 'exit once every queue is empty and nothing is in flight')
    .option('--concurrency <role=n>', 'pollers per worker (repeatable), e.g. transfer=4', concurrency)
    .option('--retry-delay <seconds>', 'make a failed message visible again after this long instead of the full visibility timeout', (v) => Number(v))
    .option('--timeout <seconds>', 'with --until-idle: give up after this long', (v) => Number(v), 3600)
    .action(async (o: { untilIdle?: boolean; concurrency?: Partial<Record<QueueRole, number>>; retryDelay?: number; timeout: number }) => {
      const deps = cliDeps({ logLevel: 'info' });
      const def = loadServiceDefinition(deps.cfg.stage, deps.cfg.region ? { region: deps.cfg.region } : {});
      const runner = await startRunner({
        def,
        deps,
        region: deps.cfg.region ?? 'us-east-1',
        ...(o.concurrency ? { concurrency: o.concurrency } : {}),
        ...(o.retryDelay !== undefined ? { retryDelaySeconds: o.retryDelay } : {}),
      });
      const finish = async () => {
        await runner.stop();
        await deps.close();
        const s = runner.stats;
        say(`Stopped. Batches: scan ${s.batches.scan}, crawl ${s.batches.crawl}, transfer ${s.batches.transfer}; failed messages: ${s.failures.scan + s.failures.crawl + s.failures.transfer}.`);
      };
      if (o.untilIdle) {
        try {
          await runner.untilIdle({ timeoutMs: o.timeout * 1000 });
        } finally {
          await finish();
        }
        return;
      }
      process.stderr.write(`Workers running on stage ${deps.cfg.stage} (${def.consumers.map((c) => `${c.function}: batch ${c.batchSize}`).join(', ')}). Ctrl-C stops.\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await finish();
    });
}
