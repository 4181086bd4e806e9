// Issue 21, item 8: what `npm ci` and the lab print must be something a user can act on.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {
  engines: { node: string };
  allowScripts?: Record<string, boolean>;
};
const lock = JSON.parse(readFileSync(`${ROOT}package-lock.json`, 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string }; hasInstallScript?: boolean }>;
};
// semver comes with npm's own tree (eslint, vitest and others depend on it); only its satisfies() is used.
const semver = createRequire(import.meta.url)('semver') as {
  satisfies: (v: string, range: string) => boolean;
  minVersion: (range: string) => { version: string } | null;
};

/** The package's name from its lockfile path (node_modules/a/node_modules/@b/c → @b/c). */
const nameOf = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);

describe('install noise', () => {
  it("every locked package's engines accept the oldest Node README promises (no EBADENGINE at npm ci)", () => {
    const oldest = semver.minVersion(pkg.engines.node)!.version;
    expect(oldest).toBe('20.19.0');
    const refusing = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && p.engines?.node && !semver.satisfies(oldest, p.engines.node))
      .map(([path, p]) => `${path}@${p.version} wants node ${p.engines!.node}`);
    expect(refusing).toEqual([]);
  });

  it('every locked package with an install script is reviewed in package.json allowScripts', () => {
    const withScripts = [
      ...new Set(
        Object.entries(lock.packages)
          .filter(([path, p]) => path !== '' && p.hasInstallScript)
          .map(([path]) => nameOf(path)),
      ),
    ].sort();
    expect(withScripts.length).toBeGreaterThan(0);
    expect(withScripts.filter((n) => pkg.allowScripts?.[n] === undefined)).toEqual([]);
  });

  it("importing the lab and building an SDK client prints no Node-version warning on this project's Node", () => {
    const env = { ...process.env };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    const script = [
      "await import('./lab/demo.ts');",
      "const { SQSClient } = await import('@aws-sdk/client-sqs');",
      "new SQSClient({ region: 'us-east-1' });",
      "console.log('built');",
    ].join(' ');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stdout.trim()).toBe('built');
    expect(r.stderr).not.toMatch(/NodeVersionSupportWarning/);
  });
});
