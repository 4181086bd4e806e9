// Issue 22: `flants verify` as an operator runs it: exit codes, one line per class, every finding by
// key, --json and --csv, the --deep announcement, and the result kept on the class record (status).
import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyKeyOf } from '../../lab/bucket-check.ts';
import { generateLibrary } from '../../lab/library.ts';
import type { OriginServer } from '../../lab/origin-server.ts';
import { flants } from '../helpers/cli.ts';
import { startCliEnv, type CliEnv } from '../helpers/cli-env.ts';

const library = generateLibrary({
  classes: 2,
  segmentsPerRendition: 2,
  segmentBytes: 4 * 1024,
  variants: 1,
  seed: 'vcli',
});
let cli: CliEnv;
let origin: OriginServer;
let env: Record<string, string>;

beforeAll(async () => {
  cli = await startCliEnv(library, {
    FLANTS_STAGE: 'verifycli',
    DEST_PREFIX: 'copy/',
    FLANTS_LOG_LEVEL: 'warn',
  });
  ({ origin, env } = cli);
  expect((await flants(['setup', '--visibility-timeout', '5'], env)).code).toBe(0);
  for (const c of library.classes) expect((await flants(['enqueue', c.id], env)).code).toBe(0);
  expect((await flants(['run', '--until-idle', '--retry-delay', '1'], env)).code).toBe(0);
}, 300_000);
afterAll(() => cli?.stop());

/** Files the ledger counted per class (the library may publish files a copy leaves out, e.g. a DASH manifest). */
async function counted(): Promise<Map<string, number>> {
  const s = JSON.parse((await flants(['status', '--json'], env)).stdout) as {
    classes: Array<{ classId: string; doneFiles: number }>;
  };
  return new Map(s.classes.map((c) => [c.classId, c.doneFiles]));
}

describe('flants verify (CLI)', () => {
  it('every class OK: exit 0, one line per class, the result kept on the record and shown by status', async () => {
    const r = await flants(['verify', '--all', '--status', 'COMPLETE'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const files = await counted();
    for (const c of library.classes)
      expect(r.stdout).toMatch(new RegExp(`^${c.id}  OK  \\(generation 1, ${files.get(c.id)} files\\)$`, 'm'));
    expect(r.stdout).toMatch(/2 class\(es\): 2 OK, 0 with findings, 0 could not be verified/);
    const s = await flants(['status'], env);
    expect(s.stdout).toMatch(/verified \S+: OK/);
    const json = JSON.parse((await flants(['status', '--json'], env)).stdout) as {
      classes: Array<{ verified?: { result: string; gen: number; stale: boolean } }>;
    };
    expect(json.classes.map((c) => c.verified)).toEqual(
      library.classes.map(() => expect.objectContaining({ result: 'OK', gen: 1, stale: false })),
    );
  });

  it('--deep says how many GETs it will make before it starts', async () => {
    const c = library.classes[0]!;
    const r = await flants(['verify', c.id, '--deep', '--no-record'], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`flants verify --deep reads every object again: ${(await counted()).get(c.id)} GETs`);
  });

  it('a deleted object: exit 1, the class line counts it, the finding names the key; --json and --csv carry it', async () => {
    const c = library.classes[1]!;
    const seg = c.paths.find((p) => library.file(p)!.kind === 'segment')!;
    const key = copyKeyOf('copy/', c.id, origin.url, seg);
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: cli.stack.endpoints.s3!,
      forcePathStyle: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await s3.send(new DeleteObjectCommand({ Bucket: 'flants-verifycli-media', Key: key }));
    s3.destroy();
    const r = await flants(['verify', c.id], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^${c.id}  missing 1, danglingReference \\d+  \\(generation 1`, 'm'));
    expect(r.stdout).toContain(`  missing  ${key}: counted `);
    const j = await flants(['verify', c.id, '--json', '--no-record'], env);
    expect(j.code).toBe(1);
    const doc = JSON.parse(j.stdout) as {
      classes: Array<{ verdict: string; findings: Array<{ kind: string; key: string }> }>;
      summary: { exitCode: number };
    };
    expect(doc.classes[0]!.verdict).toBe('FINDINGS');
    expect(doc.classes[0]!.findings).toContainEqual(expect.objectContaining({ kind: 'missing', key }));
    expect(doc.summary.exitCode).toBe(1);
    const csv = await flants(['verify', c.id, '--csv', '--no-record'], env);
    expect(csv.stdout.split('\n')[0]).toBe('classId,gen,verdict,kind,key,target,detail');
    expect(csv.stdout).toContain(`${c.id},,FINDINGS,missing,${key},,`);
    const s = await flants(['status', c.id], env);
    expect(s.stdout).toMatch(/verified \S+: missing 1, danglingReference \d+/);
  });

  it('exit 2 when it cannot run: an unknown class, or nothing named', async () => {
    const r = await flants(['verify', 'no-such-class'], env);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('no-such-class  ERROR');
    expect(r.stdout).toContain('class no-such-class is not in the ledger');
    const none = await flants(['verify'], env);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('name the classes to verify, or --all');
  });
});
