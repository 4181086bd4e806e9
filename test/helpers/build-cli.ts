import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BUILD = fileURLToPath(new URL('../../scripts/build-cli.mjs', import.meta.url));

/**
 * vitest's global setup: builds the CLI from the sources as they are (a no-op when that build exists),
 * so the `flants` processes the tests spawn start from JavaScript. Without a build they still run,
 * from the sources through tsx: bin/flants.js never runs a build of other sources.
 */
export default function buildCli(): void {
  spawnSync(process.execPath, [BUILD, '--soft'], { stdio: 'inherit' });
}
