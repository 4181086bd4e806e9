import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The CLI's build for the sources as they are, so spawned `flants` processes start fast (bin/build-stamp.js).
    globalSetup: ['test/helpers/build-cli.ts'],
    // Integration suites start real servers as child processes; two cores cannot run many at once.
    maxWorkers: 2,
    // Tests wait for conditions, not for time: these limits only end a hang, so they are generous for a
    // loaded machine (a slow pass must not fail; a test's own deadlines say what it was waiting for).
    testTimeout: 300_000,
    hookTimeout: 180_000,
    reporters: ['default'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
