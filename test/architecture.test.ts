// The dependency rule of docs/architecture.md ("The layers") is part of `eslint .` in `npm test`: these cases
// show it refuses what it must (an upward import, an AWS package in the domain, one backend reaching into
// another) and lets the allowed direction through, so a rule that silently matched nothing would fail here.
import { execFileSync } from 'node:child_process';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { LAYERS } from '../eslint.layers.js';

const eslint = new ESLint({
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...LAYERS],
});

async function refusals(filePath: string, specifier: string): Promise<string[]> {
  const [result] = await eslint.lintText(`import '${specifier}';\n`, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('the dependency rule', () => {
  it.each([
    ['src/domain/lifecycle/x.ts', '../../adapters/dynamodb/ledger.ts', 'the domain importing an adapter'],
    ['src/domain/lifecycle/x.ts', '../../config.ts', 'the domain importing the settings reader'],
    ['src/hls/x.ts', '../pipeline/crawler.ts', 'the enumeration importing a use case'],
    ['src/domain/x.ts', '@aws-sdk/client-s3', 'the domain importing the AWS SDK'],
    ['src/dash/x.ts', 'mongodb', 'the domain importing MongoDB'],
    ['src/domain/origin/x.ts', 'undici', 'the domain importing an HTTP client'],
    ['src/util/x.ts', '../domain/vocabulary.ts', 'the base importing the domain'],
    ['src/config.ts', './adapters/s3/objects.ts', 'config importing an adapter'],
    ['src/adapters/s3/x.ts', '../dynamodb/ledger.ts', 'one backend importing another'],
    ['src/adapters/sqs/x.ts', '../../pipeline/batch.ts', 'an adapter importing a use case'],
    ['src/pipeline/x.ts', '../wiring/deps.ts', 'a use case importing its wiring'],
    ['src/pipeline/x.ts', '../adapters/s3/objects.ts', 'a use case importing an adapter'],
    ['src/verify/x.ts', '../adapters/dynamodb/ledger.ts', 'verify importing the ledger adapter'],
    ['src/views/x.ts', '../dashboard/render.ts', 'a view model importing the dashboard'],
    ['src/dashboard/x.ts', '../../handlers/dashboard.ts', 'the dashboard importing its handler'],
    ['handlers/x.ts', '../lab/demo.ts', 'a handler importing the lab'],
  ])('refuses %s → %s (%s)', async (file, specifier) => {
    expect(await refusals(file, specifier)).toEqual(['no-restricted-imports']);
  });

  it.each([
    ['src/domain/lifecycle/x.ts', '../vocabulary.ts'],
    ['src/hls/x.ts', '../dash/scan.ts'],
    ['src/hls/x.ts', '../domain/ports/origin.ts'],
    ['src/config.ts', './domain/vocabulary.ts'],
    ['src/adapters/s3/x.ts', './s3-put.ts'],
    ['src/adapters/s3/x.ts', '../../domain/ports/origin.ts'],
    ['src/adapters/s3/x.ts', '@aws-sdk/client-s3'],
    ['src/wiring/x.ts', '../adapters/s3/objects.ts'],
    ['src/pipeline/x.ts', '../domain/ports/object-store.ts'],
    ['handlers/x.ts', '../src/wiring/lambda.ts'],
  ])('allows %s → %s', async (file, specifier) => {
    expect(await refusals(file, specifier)).toEqual([]);
  });
});

describe('every source file', () => {
  it('belongs to a layer: a folder the rule does not name would escape it', async () => {
    const files = execFileSync('git', ['ls-files', 'src', 'handlers'], { encoding: 'utf8' })
      .split('\n')
      .filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(100);
    const outside: string[] = [];
    for (const f of files) {
      const config = (await eslint.calculateConfigForFile(f)) as { rules?: Record<string, unknown> };
      if (!config.rules?.['no-restricted-imports']) outside.push(f);
    }
    expect(outside).toEqual([]);
  });
});
