// The live page's script (its source: src/dashboard/browser/, TypeScript type-checked with the DOM's
// types by src/dashboard/browser/tsconfig.json, linted, and importing its arithmetic from progress.ts
// and format.ts, the very modules the server and `flants status --watch` use), and the CSP hash that
// lets exactly that script run.
//
// How the bundle reaches the page, in each place the dashboard runs:
// - Built code: the Lambda (serverless-esbuild, serverless.yml's custom.esbuild.plugins) and the CLI in
//   dist/cli/<stamp>/ (scripts/build-cli.mjs). Both builds run one esbuild plugin
//   (scripts/dashboard-script.cjs) that bundles the browser code and swaps client-script.ts for a
//   module returning it as a string: nothing to bundle, read or find at run time, and no esbuild,
//   which a Lambda does not have.
// - The sources (bin/flants.js through tsx when no build matches, scripts, vitest): client-script.ts
//   bundles it on first use with the same options and esbuild (a devDependency, and tsx's own
//   dependency, so there wherever the sources can run), kept in memory.
// One set of options and one esbuild, so the page's bytes and hash are the same however it is served
// (test/deploy compares the Lambda's CSP hash with the sources' bundle). Not a generated file in git:
// it would need a step after every edit and could go stale; not a bundle at first request
// everywhere: Lambda has no esbuild. Lazily, not at import: commands that never draw the page never
// pay for bundling it.
import { createHash } from 'node:crypto';
import { loadClientScript } from './client-script.ts';

export { POLL_INTERVAL_MS } from './browser/wire.ts';

let made: { script: string; hash: string } | undefined;

/** The page's script and its CSP source (`sha256-…`), made once. */
export function clientScript(): { script: string; hash: string } {
  if (!made) {
    const script = loadClientScript();
    made = { script, hash: `sha256-${createHash('sha256').update(script).digest('base64')}` };
  }
  return made;
}
