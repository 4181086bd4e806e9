import { Command, CommanderError } from 'commander';
import { describeError } from '../errors.ts';

/** Adds one command (or a few) to the program. */
export type Register = (program: Command) => void;
/** Loads a command's module when that command runs. */
export type CommandModules = Record<string, () => Promise<Register>>;

// Each command's module (and the SDKs behind it) loads only when that command runs: `flants plan`
// should not pay for the AWS SDK and the MongoDB driver.
const MODULES: CommandModules = {
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
  verify: async () => (await import('./verify.ts')).registerVerify,
};

/**
 * Builds the `flants` command line with the commands `argv` needs (all of them for help). `extra`
 * adds commands from outside the product (bin/flants.js adds the lab's `demo`).
 */
export async function buildProgram(
  argv: readonly string[] = process.argv,
  extra: CommandModules = {},
): Promise<Command> {
  const modules = { ...MODULES, ...extra };
  const program = new Command('flants')
    .description('Move whole HLS video libraries into S3, continuously and without losing a file.')
    .showHelpAfterError()
    .exitOverride();
  const wanted = argv[2] !== undefined && argv[2] in modules ? [modules[argv[2]]!] : Object.values(modules);
  const registers = new Set(await Promise.all(wanted.map((load) => load())));
  for (const register of registers) register(program);
  return program;
}

/** Runs the command line: the process's one entry point (bin/flants.js). */
export async function runCli(extra: CommandModules = {}): Promise<void> {
  try {
    await (await buildProgram(process.argv, extra)).parseAsync(process.argv);
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
}
