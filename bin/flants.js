#!/usr/bin/env node
// Starts the CLI from its build (dist/cli/<stamp>/, made by scripts/build-cli.mjs at `npm ci`,
// `npm test` and `npm run build`) when that build was made from the sources exactly as they are now,
// and otherwise runs the TypeScript sources through tsx, as a developer's edit should (see
// bin/build-stamp.js: the stamp is a hash of the sources' contents, so a stale build is never run).
// FLANTS_FROM_SOURCE=1 forces the sources. Forked `flants run --workers` processes start here too.
import { currentBuild } from './build-stamp.js';

// The pinned SDK runs on Node 20 and 22 alike; its notice about future releases is for the README, not every command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// `flants plan ... | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const build = process.env.FLANTS_FROM_SOURCE ? undefined : currentBuild();
let cli;
if (build) {
  // Stack traces (FLANTS_DEBUG) should name the sources, not the minified bundle.
  if (process.env.FLANTS_DEBUG) process.setSourceMapsEnabled(true);
  cli = { main: build.main, lab: build.lab };
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = { main: '../src/cli/main.ts', lab: '../lab/cli.ts' };
}
const { runCli } = await import(cli.main);
// The product's commands, plus the lab's `demo` and `lab up|down|heal` (sample library, local origin, embedded stack), which
// lives apart from the code operators run against real endpoints.
await runCli({
  demo: async () => (await import(cli.lab)).registerDemo,
  lab: async () => (await import(cli.lab)).registerLab,
});
