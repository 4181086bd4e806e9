#!/usr/bin/env node
// Runs before `npm test`: the dashboard's browser test drives Debian's Chromium through Playwright
// (Playwright's own browser download cannot work here). On a fresh Debian machine this installs the
// `chromium` package, so `npm test` needs no manual step; elsewhere it says what to install.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (existsSync(path)) process.exit(0);

const has = (cmd) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const root = process.getuid?.() === 0;
const sudo = !root && has('sudo') ? ['sudo', '-n'] : [];
if (!has('apt-get') || (!root && sudo.length === 0)) {
  console.error(
    `npm test needs Chromium at ${path} for the dashboard's browser test: install Debian's "chromium" package, or set CHROMIUM_PATH.`,
  );
  process.exit(1);
}
console.error("Installing Debian's chromium package for the dashboard browser test (once)...");
const run = (args) =>
  execFileSync(sudo[0] ?? args[0], sudo.length ? [...sudo.slice(1), ...args] : args.slice(1), {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
run(['apt-get', 'update', '-qq']);
run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'chromium']);
if (!existsSync(path)) {
  console.error(`chromium installed but not at ${path}; set CHROMIUM_PATH`);
  process.exit(1);
}
