// The live page's script when the dashboard runs from its TypeScript sources (tsx, vitest, scripts):
// bundled from src/dashboard/browser/ on first use by esbuild (a devDependency, and tsx's own
// dependency, so present wherever the sources can run). Built code never runs this file: the builds' esbuild plugin (scripts/dashboard-script.cjs)
// replaces it with one that returns the bundle as a string. Keep its one export as it is: the plugin
// writes the same. See client.ts for why.
import { createRequire } from 'node:module';
import type * as Builder from '../../scripts/dashboard-script.cjs';

type DashboardScriptBuilder = typeof Builder;

/** The page's script, bundled now from src/dashboard/browser/main.ts. */
export function loadClientScript(): string {
  try {
    const builder = createRequire(import.meta.url)('../../scripts/dashboard-script.cjs') as DashboardScriptBuilder;
    return builder.bundleDashboardScriptSync();
  } catch (err) {
    throw new Error(
      `the dashboard's page script could not be bundled from src/dashboard/browser/ (${err instanceof Error ? err.message : String(err)}); if esbuild is missing, install the dependencies (npm ci)`,
      { cause: err },
    );
  }
}
