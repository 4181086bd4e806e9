// AWS's own template linter on the packaged stack, where it is installed (`pip install cfn-lint`).
// Optional: npm test never needs Python; without cfn-lint this file skips with one line saying so.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageService, type Packaged } from './package.ts';

interface Finding {
  Level: 'Error' | 'Warning' | 'Informational';
  Message: string;
  Rule: { Id: string };
  Location: { Path: Array<string | number> };
}

/** How to run cfn-lint here: its own command, else the Python module; undefined where neither runs. */
function cfnLint(): string[] | undefined {
  for (const cmd of [['cfn-lint'], ['python3', '-m', 'cfnlint']]) {
    const r = spawnSync(cmd[0]!, [...cmd.slice(1), '--version'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return cmd;
  }
  return undefined;
}

const lint = cfnLint();
if (!lint)
  console.warn('cfn-lint is not installed (pip install cfn-lint): skipping the linter check of the packaged template');

/** Rules whose findings are in what osls generates, not in serverless.yml: a redundant DependsOn it adds. */
const GENERATED_BY_OSLS = new Set(['W3005']);

describe.skipIf(!lint)('cfn-lint on the packaged template', () => {
  let pkg: Packaged;
  beforeAll(() => {
    pkg = packageService('prod');
  }, 240_000);
  afterAll(() => pkg?.cleanup());

  const run = (file: string): Finding[] => {
    const r = spawnSync(lint![0]!, [...lint!.slice(1), '--format', 'json', join(pkg.dir, file)], {
      encoding: 'utf8',
      timeout: 180_000,
    });
    // Exit codes are a bit mask (2 errors, 4 warnings, 8 informational); anything else is cfn-lint failing.
    if (r.status === null || (r.status & ~14) !== 0) throw new Error(`cfn-lint failed (${r.status}): ${r.stderr}`);
    return JSON.parse(r.stdout || '[]') as Finding[];
  };
  const show = (f: Finding) => `${f.Rule.Id} ${f.Location.Path.join('/')}: ${f.Message}`;

  it('reports no errors, and no warnings beyond what osls generates, on the stack template', () => {
    const found = run('cloudformation-template-update-stack.json');
    expect(found.filter((f) => f.Level === 'Error').map(show)).toEqual([]);
    expect(found.filter((f) => f.Level === 'Warning' && !GENERATED_BY_OSLS.has(f.Rule.Id)).map(show)).toEqual([]);
  }, 240_000);

  it('reports nothing on the first-deploy template', () => {
    expect(run('cloudformation-template-create-stack.json').map(show)).toEqual([]);
  }, 240_000);
});
