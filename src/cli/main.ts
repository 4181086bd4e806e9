import { Command, CommanderError } from 'commander';
import { describeError } from '../errors.ts';

type Register = (program: Command) => void;

// Each command's module (and the SDKs behind it) loads only when that command runs: `flants plan`
// should not pay for the AWS SDK and the MongoDB driver.
const MODULES: Record<string, () => Promise<Register>> = {
  demo: async () => (await import('./demo.ts')).registerDemo,
  setup: async () => (await import('./setup.ts')).registerSetup,
  run: async () => (await import('./run.ts')).registerRun,
  enqueue: async () => (await import('./enqueue.ts')).registerEnqueue,
  scan: async () => (await import('./enqueue.ts')).registerEnqueue,
  status: async () => (await import('./status.ts')).registerStatus,
  redrive: async () => (await import('./ops.ts')).registerOps,
  report: async () => (await import('./ops.ts')).registerOps,
  plan: async () => (await import('./plan.ts')).registerPlan,
  dashboard: async () => (await import('./dashboard.ts')).registerDashboard,
  estimate: async () => (await import('./estimate.ts')).registerEstimate,
};

/** Builds the `flants` command line with the commands `argv` needs (all of them for help). */
export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command('flants')
    .description('Move whole HLS video libraries into S3, continuously and without losing a file.')
    .showHelpAfterError()
    .exitOverride();
  const wanted = argv[2] !== undefined && argv[2] in MODULES ? [MODULES[argv[2]]!] : Object.values(MODULES);
  const registers = new Set(await Promise.all(wanted.map((load) => load())));
  for (const register of registers) register(program);
  return program;
}

try {
  await (await buildProgram()).parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else {
    // One line, the message alone: codes are for logs, people read sentences.
    const message = err instanceof Error ? err.message.replace(/\s+/g, ' ').trim() : describeError(err);
    process.stderr.write(`flants: ${message}\n`);
    if (process.env.FLANTS_DEBUG) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
    process.exitCode = process.exitCode || 1;
  }
}
