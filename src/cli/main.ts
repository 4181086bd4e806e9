import { Command, CommanderError } from 'commander';
import { describeError } from '../errors.ts';
import { registerDemo } from './demo.ts';
import { registerPlan } from './plan.ts';

/** Builds the `flants` command line. */
export function buildProgram(): Command {
  const program = new Command('flants')
    .description('Move whole HLS video libraries into S3, continuously and without losing a file.')
    .showHelpAfterError()
    .exitOverride();
  registerDemo(program);
  registerPlan(program);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`flants: ${describeError(err)}\n`);
    if (process.env.FLANTS_DEBUG) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
    process.exitCode = process.exitCode || 1;
  }
}
