import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { QueueRole } from '../domain/vocabulary.ts';
import { startRunner } from '../ops/runner.ts';
import { loadServiceDefinition } from '../ops/service-definition.ts';
import { cliDeps, say } from './context.ts';

function concurrency(raw: string, prev: Partial<Record<QueueRole, number>> = {}): Partial<Record<QueueRole, number>> {
  const m = /^(scan|crawl|transfer)=(\d+)$/.exec(raw);
  if (!m || Number(m[2]) < 1)
    throw new InvalidArgumentError('--concurrency takes <scan|crawl|transfer>=<n>, e.g. transfer=4');
  return { ...prev, [m[1] as QueueRole]: Number(m[2]) };
}

function positive(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError('--workers takes a whole number of processes, e.g. 2');
  return n;
}

/** This command line with `--workers` set to 1: what each extra worker process runs. */
function singleWorkerArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--workers') i++;
    else if (!argv[i]!.startsWith('--workers=')) out.push(argv[i]!);
  }
  return [...out, '--workers', '1'];
}

/**
 * Starts `count` more processes running this same command with one worker each. One Node process
 * uses one core; Lambda runs many containers at once, so several processes are the local picture
 * of that. A child exits when its parent goes (the IPC channel closes), as a container would.
 */
function forkWorkers(count: number, env: NodeJS.ProcessEnv): ChildProcess[] {
  const args = singleWorkerArgs(process.argv.slice(2));
  return Array.from({ length: count }, () => fork(process.argv[1]!, args, { stdio: 'inherit', env }));
}

/**
 * The environment of every worker process: each reads 1/workers of the origin limits
 * (ORIGIN_LIMIT_SHARES), unless it was set, or a forked worker inherited it from its parent.
 */
function workerEnv(workers: number): NodeJS.ProcessEnv {
  return process.env.ORIGIN_LIMIT_SHARES ? process.env : { ...process.env, ORIGIN_LIMIT_SHARES: String(workers) };
}

function exited(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}

/** Registers `flants run`: the three workers in this process, against the configured endpoints. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      'Run the scanner, crawler and transfer workers against the configured endpoints, until stopped: one process per core (--workers N sets how many, 1 keeps them in this process)',
    )
    .option('--until-idle', 'exit once every queue is empty and nothing is in flight')
    .option('--concurrency <role=n>', 'pollers per worker (repeatable), e.g. transfer=4', concurrency)
    .option(
      '--retry-delay <seconds>',
      'make a failed message visible again after this long instead of the full visibility timeout',
      (v) => Number(v),
    )
    .option('--timeout <seconds>', 'with --until-idle: give up after this long', (v) => Number(v), 3600)
    .addOption(
      new Option(
        '--workers <n>',
        'worker processes, each with these pollers (the local picture of concurrent Lambda containers)',
      )
        .argParser(positive)
        // One Node process keeps one core busy: fewer leaves cores idle, more only adds start-up and polling.
        .default(availableParallelism(), `one per core, ${availableParallelism()} here`),
    )
    .action(
      async (o: {
        untilIdle?: boolean;
        concurrency?: Partial<Record<QueueRole, number>>;
        retryDelay?: number;
        timeout: number;
        workers: number;
      }) => {
        if (process.send) {
          // A forked worker goes when its parent does, whatever it was doing: a killed host kills its containers.
          process.once('disconnect', () => process.exit(1));
          // The channel is only for hearing the parent go: it must not keep a finished worker alive.
          process.channel?.unref();
        }
        const env = workerEnv(o.workers);
        const children = o.workers > 1 ? forkWorkers(o.workers - 1, env) : [];
        const childrenDone = Promise.all(children.map(exited));
        const deps = cliDeps({ logLevel: 'info', env });
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
          say(
            `Stopped. Batches: scan ${s.batches.scan}, crawl ${s.batches.crawl}, transfer ${s.batches.transfer}; failed messages: ${s.failures.scan + s.failures.crawl + s.failures.transfer}.`,
          );
          // Each worker process reports its own batches; this one waits for the others.
          if (!o.untilIdle) for (const child of children) child.kill('SIGTERM');
          if ((await childrenDone).some((code) => code !== 0)) process.exitCode = 1;
        };
        if (o.untilIdle) {
          try {
            await runner.untilIdle({ timeoutMs: o.timeout * 1000 });
          } finally {
            await finish();
          }
          return;
        }
        process.stderr.write(
          `Workers running on stage ${deps.cfg.stage} (${def.consumers.map((c) => `${c.function}: batch ${c.batchSize}`).join(', ')}). Ctrl-C stops.\n`,
        );
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await finish();
      },
    );
}
