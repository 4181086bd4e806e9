// The vitest config Stryker runs (stryker.config.js): only the target's own tests, without the CLI build
// the full suite's global setup makes. The tests are narrowed here rather than with Stryker's `testFiles`,
// which (9.6.1, stryker-js#6144) activates a module-level mutant only after the module has loaded, so
// every such mutant would survive.
import { defineConfig } from 'vitest/config';
import { TARGETS } from './scripts/mutation-targets.mjs';

const target = TARGETS[process.env.FLANTS_MUTATION_TARGET ?? ''];
if (!target) throw new Error('FLANTS_MUTATION_TARGET must name a target of scripts/mutation-targets.mjs');

export default defineConfig({
  test: {
    include: target.testFiles,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
