// Runs `npm run package` once into a temporary directory and reads what it produced.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Template } from './cfn.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Packaged {
  dir: string;
  stage: string;
  /** The stack template `osls deploy` updates to (every resource). */
  template: Template;
  /** The first-deploy template (only the deployment bucket). */
  createTemplate: Template;
  seconds: number;
  output: string;
  cleanup(): void;
}

/** `npm run package -- --stage <stage> --package <tmp>`, offline, without any AWS credentials in reach. */
export function packageService(stage = 'prod'): Packaged {
  const dir = mkdtempSync(join(tmpdir(), 'flants-package-'));
  const env: NodeJS.ProcessEnv = {};
  // Whatever the caller has, the packaging must not need it.
  for (const [k, v] of Object.entries(process.env)) if (!/^AWS_/.test(k) || k === 'AWS_CA_BUNDLE') env[k] = v;
  const started = Date.now();
  const res = spawnSync('npm', ['run', '--silent', 'package', '--', '--stage', stage, '--package', dir], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    shell: process.platform === 'win32',
    timeout: 180_000,
  });
  const output = `${res.stdout ?? ''}${res.stderr ?? ''}`;
  if (res.status !== 0) throw new Error(`npm run package failed (${res.status ?? res.signal}):\n${output}`);
  const update = join(dir, 'cloudformation-template-update-stack.json');
  if (!existsSync(update)) throw new Error(`npm run package wrote no template to ${dir}:\n${output}`);
  const seconds = (Date.now() - started) / 1000;
  process.stderr.write(`npm run package took ${seconds.toFixed(1)} s\n`);
  return {
    dir,
    stage,
    template: JSON.parse(readFileSync(update, 'utf8')) as Template,
    createTemplate: JSON.parse(
      readFileSync(join(dir, 'cloudformation-template-create-stack.json'), 'utf8'),
    ) as Template,
    seconds,
    output,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
