import { Command, CommanderError } from 'commander';
import { describeError } from '../errors.ts';
import { registerDemo } from './demo.ts';
import { registerEnqueue } from './enqueue.ts';
import { registerOps } from './ops.ts';
import { registerRun } from './run.ts';
import { registerSetup } from './setup.ts';
import { registerStatus } from './status.ts';
import { registerPlan } from './plan.ts';

/** Builds the `flants` command line. */
export function buildProgram(): Command {
  const program = new Command('flants')
    .description('Move whole HLS video libraries into S3, continuously and without losing a file.')
    .showHelpAfterError()
    .exitOverride();
  registerDemo(program);
  registerSetup(program);
  registerRun(program);
  registerEnqueue(program);
  registerStatus(program);
  registerOps(program);
  registerPlan(program);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
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
