import { InvalidArgumentError, type Command } from 'commander';
import { createDashboardServer } from '../dashboard/index.ts';
import { cachedDeadLetters } from '../adapters/sqs/dead-letters.ts';
import { recentOriginHealth } from '../adapters/dynamodb/origin-health.ts';
import { cliDeps, say } from './context.ts';
import { cloudWatchQueueAges } from '../adapters/cloudwatch/queue-age-cloudwatch.ts';

/** Registers `flants dashboard`: the deployed dashboard's page, served locally for any endpoints. */
export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description('Serve the status dashboard on 127.0.0.1 (the same page the deployed HTTP API serves)')
    .option('--port <port>', 'port to listen on (default: any free port)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('--port must be 0-65535');
      return n;
    })
    .action(async (o: { port?: number }) => {
      const deps = cliDeps();
      const cw = cloudWatchQueueAges(deps.cfg);
      const server = createDashboardServer({
        stage: deps.cfg.stage,
        ledger: deps.ledger,
        queue: deps.queue,
        deadLetters: cachedDeadLetters(deps.aws.sqs, deps.queue),
        freshWithinHours: deps.cfg.fresh.withinHours,
        ...(cw ? { ages: cw.ages } : {}),
        origins: () => recentOriginHealth(deps.aws.ddb, deps.cfg.tableName, 5),
        log: deps.log,
      });
      const url = await server.listen(o.port ?? 0);
      say(
        `Dashboard for stage ${deps.cfg.stage}: ${url} (JSON: ${url.replace(/\/?$/, '/')}status.json). Ctrl-C stops.`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
      cw?.destroy();
      await deps.close();
    });
}
