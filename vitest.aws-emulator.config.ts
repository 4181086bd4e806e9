// `npm run test:aws-emulator`: the suites that need an AWS emulator (moto) installed. Never part of
// `npm test`, whose include pattern (test/**/*.test.ts) does not match these files.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/aws-emulator/**/*.suite.ts'],
    maxWorkers: 1,
    testTimeout: 360_000,
    hookTimeout: 240_000,
    reporters: ['default'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
