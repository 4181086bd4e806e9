// The live dashboard page's script: src/dashboard/browser/main.ts bundled for the browser, one set of
// esbuild options for every way the page is served (see src/dashboard/client.ts for the design):
//
// - dashboardScriptPlugin(): an esbuild plugin for the builds (serverless-esbuild's Lambda bundles via
//   scripts/esbuild-plugins.cjs, the CLI via scripts/build-cli.mjs). It swaps src/dashboard/client-script.ts
//   for a module that returns the bundle as a string, so built code needs no esbuild at run time.
// - bundleDashboardScriptSync(): the same bundle from the sources (tsx, vitest), on first use.
//
// CommonJS on purpose: serverless-esbuild require()s its plugins file, and the sources' fallback loads
// this synchronously (createRequire) without Node's require(esm).
'use strict';
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const ENTRY = join(ROOT, 'src', 'dashboard', 'browser', 'main.ts');
/** The module the plugin swaps: its source version bundles on demand. */
const SWAPPED = join(ROOT, 'src', 'dashboard', 'client-script.ts');

/** esbuild's options for the page's script: one classic script, inlined in the page (no module, no map). */
function dashboardScriptOptions() {
  return {
    absWorkingDir: ROOT,
    entryPoints: [ENTRY],
    tsconfig: join(ROOT, 'src', 'dashboard', 'browser', 'tsconfig.json'),
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    // Syntax of 2017 browsers; what they lack at run time (Array.prototype.at) the script checks before it starts.
    target: 'es2017',
    minify: true,
    // Non-ASCII as \u escapes: the script's bytes, and so its CSP hash, do not depend on an encoding.
    charset: 'ascii',
    legalComments: 'none',
    logLevel: 'silent',
  };
}

/** The bundle's text, refused if it could end or confuse the <script> element it is inlined in. */
function scriptOf(result) {
  const files = result.outputFiles ?? [];
  if (files.length !== 1) throw new Error(`bundling ${ENTRY} gave ${files.length} files, expected one`);
  const script = files[0].text;
  if (/<\/script|<!--/i.test(script))
    throw new Error(
      `the dashboard's script contains "</script" or "<!--", which would break the page it is inlined in: write it another way in src/dashboard/browser/`,
    );
  return script;
}

/** The page's script, bundled now (blocking: esbuild's synchronous API). */
function bundleDashboardScriptSync() {
  return scriptOf(require('esbuild').buildSync(dashboardScriptOptions()));
}

/** The esbuild plugin that replaces src/dashboard/client-script.ts by the bundled script. */
function dashboardScriptPlugin() {
  return {
    name: 'flants-dashboard-script',
    setup(build) {
      build.onLoad({ filter: /[\\/]dashboard[\\/]client-script\.ts$/ }, async (args) => {
        if (args.path !== SWAPPED) return undefined;
        // The project's own esbuild, as the sources' fallback uses: the same bytes (and hash) either way.
        const result = await require('esbuild').build(dashboardScriptOptions());
        const script = scriptOf(result);
        return {
          contents: `// Bundled from src/dashboard/browser/ at build time (scripts/dashboard-script.cjs).\nexport function loadClientScript(): string {\n  return ${JSON.stringify(script)};\n}\n`,
          loader: 'ts',
        };
      });
    },
  };
}

module.exports = { dashboardScriptOptions, bundleDashboardScriptSync, dashboardScriptPlugin };
