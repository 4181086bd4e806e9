import type { Command } from 'commander';

/** Registers `flants plan` (placeholder until the HLS enumeration lands). */
export function registerPlan(program: Command): void {
  program
    .command('plan <target>')
    .description('List every file of the class whose master playlist is <target> (URL or file)')
    .option('--json', 'one JSON object per line')
    .action(() => {
      throw new Error('plan is not implemented yet');
    });
}
