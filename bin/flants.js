#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx, so the CLI, the tests and the Lambda bundle share
// one source tree with no build step to forget.
import { register } from 'tsx/esm/api';

// The pinned SDK runs on Node 20 and 22 alike; its notice about future releases is for the README, not every command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// `flants plan ... | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
register();
const { runCli } = await import('../src/cli/main.ts');
// The product's commands, plus the lab's `demo` (sample library, local origin, embedded stack), which
// lives apart from the code operators run against real endpoints.
await runCli({ demo: async () => (await import('../lab/cli.ts')).registerDemo });
