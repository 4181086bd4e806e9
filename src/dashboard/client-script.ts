// The live page's script when the dashboard runs from its TypeScript sources (tsx, vitest, scripts):
// bundled from src/dashboard/browser/ on first use by esbuild, a devDependency, present wherever the
// sources run. Built code never runs this file: the builds' esbuild plugin (scripts/dashboard-script.cjs)
// replaces it with one that returns the bundle as a string. Keep its one export as it is: the plugin
// writes the same. See client.ts for why.
import { createRequire } from 'node:module';
import type * as Builder from '../../scripts/dashboard-script.cjs';

type DashboardScriptBuilder = typeof Builder;

/** The page's script, bundled now from src/dashboard/browser/main.ts. */
export function loadClientScript(): string {
  let builder: DashboardScriptBuilder;
  try {
    builder = createRequire(import.meta.url)('../../scripts/dashboard-script.cjs') as DashboardScriptBuilder;
  } catch (err) {
    throw new Error(
      `the dashboard's page script could not be bundled from the sources (${err instanceof Error ? err.message : String(err)}): install the dev dependencies (npm ci) or build the CLI (npm run build)`,
      { cause: err },
    );
  }
  return builder.bundleDashboardScriptSync();
}
