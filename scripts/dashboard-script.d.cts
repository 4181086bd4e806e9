// Types of scripts/dashboard-script.cjs, for src/dashboard/client-script.ts and the tests.
import type { BuildOptions, Plugin } from 'esbuild';

export declare function dashboardScriptOptions(): BuildOptions & { write: false };
export declare function bundleDashboardScriptSync(): string;
export declare function dashboardScriptPlugin(): Plugin;
