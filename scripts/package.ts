// `npm run package [-- --stage dev --package DIR ...]`: builds the CloudFormation template and the
// function bundles with osls, offline. Any AWS credentials of the caller are hidden from osls, so
// a package that would need an AWS lookup (${ssm:}, ${cf:}, ${aws:accountId}) fails here instead
// of quietly depending on whoever ran it.
import { spawnSync } from 'node:child_process';
import { rmdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The environment osls runs in: no telemetry, no prompts, no credentials, no instance metadata. */
export function offlineEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (/^AWS_/.test(k) && !['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_CA_BUNDLE'].includes(k)) continue;
    env[k] = v;
  }
  return {
    ...env,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    SLS_INTERACTIVE_SETUP_DISABLE: '1',
    SLS_DEPRECATION_NOTIFICATION_MODE: 'warn',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(root, '.serverless', 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(root, '.serverless', 'no-aws-credentials'),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** osls's CLI entry point, from this project's pinned install (never a global `serverless` v4). */
export function oslsBin(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('osls/package.json')), 'bin', 'serverless.js');
}

function main(argv: string[]): number {
  const args = ['package', ...argv];
  if (!argv.some((a) => a === '--stage' || a.startsWith('--stage=') || a === '-s')) args.push('--stage', 'prod');
  const started = Date.now();
  // Under .esbuild/ (git-ignored); serverless-esbuild deletes it when done.
  const env = {
    ...offlineEnv(),
    FLANTS_ESBUILD_WORK_FOLDER: process.env.FLANTS_ESBUILD_WORK_FOLDER ?? join('.esbuild', `run-${process.pid}`),
  };
  const res = spawnSync(process.execPath, [oslsBin(), ...args], { cwd: root, env, stdio: 'inherit' });
  if (res.error) throw res.error;
  try {
    rmdirSync(join(root, '.esbuild'));
  } catch {
    // Not empty (another run is using it) or already gone.
  }
  if (res.status === 0) process.stderr.write(`packaged in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return res.status ?? 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1])
  process.exitCode = main(process.argv.slice(2));
