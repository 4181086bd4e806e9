// Mutation testing (issue 26): does the suite notice a wrong line in the core rules? One target at a
// time, chosen by FLANTS_MUTATION_TARGET; run it through `npm run test:mutation -- <target>`
// (scripts/mutation.mjs), which also writes the target's tsconfig. docs/testing.md explains the lot.

import { TARGETS } from './scripts/mutation-targets.mjs';

const name = process.env.FLANTS_MUTATION_TARGET ?? '';
const target = TARGETS[name];
if (!target) {
  throw new Error(
    `FLANTS_MUTATION_TARGET must name a target (${Object.keys(TARGETS).join(', ')}); run \`npm run test:mutation -- <target>\``,
  );
}

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // Runs only the target's tests (see there why not Stryker's `testFiles`).
  vitest: { configFile: 'stryker.vitest.config.js' },
  mutate: target.mutate,
  // Each mutant runs only the tests that reached it in the dry run.
  coverageAnalysis: 'perTest',
  checkers: ['typescript'],
  // Written by scripts/mutation.mjs: the mutated files and what they import, not the whole project.
  tsconfigFile: `tsconfig.mutation-${name}.json`,
  // Two cores, two workers. `-- <target> --concurrency 1` on a machine others share.
  concurrency: 2,
  // A loaded machine makes slow tests look like infinite loops; a real one still ends in a timeout.
  timeoutMS: 10_000,
  thresholds: { high: 95, low: 90, break: 90 },
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  clearTextReporter: { allowEmojis: false, logTests: false, reportScoreTable: true },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['.stryker-tmp*', 'dist', 'reports', '.flants', '.serverless', '.esbuild', 'coverage'],
  cleanTempDir: true,
};
