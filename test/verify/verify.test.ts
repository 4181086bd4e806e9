// Issue 22: `flants verify` against the local stack. Classes are copied by the real crawler and
// transfer (lab origin, local S3 and DynamoDB), then the bucket (or the ledger) is tampered with one
// way per class, and verify must report exactly that, by key. An untouched class verifies OK with a
// HEAD per file, one listing and nothing else, counted at an S3 proxy.
import { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyKeyOf } from '../../lab/bucket-check.ts';
import { generateLibrary, type SampleClass } from '../../lab/library.ts';
import type { OriginContent, OriginServer } from '../../lab/origin-server.ts';
import type { S3Operation } from '../../lab/s3-operations.ts';
import type { Config } from '../../src/config.ts';
import type { Origin } from '../../src/domain/ports/origin.ts';
import type { Ledger } from '../../src/domain/ports/ledger.ts';
import { createObjectStore } from '../../src/adapters/s3/objects.ts';
import type { ObjectStore } from '../../src/domain/ports/object-store.ts';
import type { Finding } from '../../src/verify/findings.ts';
import { verifyClass, type ClassVerification } from '../../src/verify/verify-class.ts';
import { createHandler as verifyFor } from '../../handlers/verify.ts';
import { buildDeps } from '../../src/wiring/deps.ts';
import { type PipelineDriver } from '../helpers/driver.ts';
import { recordingS3, type TestStack } from '../helpers/stack.ts';
import { pipelineDriver, startPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.ts';

const library = generateLibrary({
  classes: 8,
  variants: 1,
  segmentsPerRendition: 3,
  segmentBytes: 2048,
  seed: 'verify',
});
/** Origin paths served with other bytes of the same size (and another ETag) once listed here. */
const changedAtOrigin = new Set<string>();
/** Origin paths answered 404 once listed here. */
const goneFromOrigin = new Set<string>();
const flip = (b: Buffer): Buffer => Buffer.from(b.map((x) => x ^ 0xff));
const content: OriginContent = {
  stat: (p) => {
    if (goneFromOrigin.has(p)) return undefined;
    const st = library.stat(p);
    return st && changedAtOrigin.has(p) ? { ...st, etag: '"changed"' } : st;
  },
  read: (p, range) => {
    if (!changedAtOrigin.has(p)) return library.read(p, range);
    const b = flip(library.bytes(p));
    return Readable.from([range ? b.subarray(range.start, range.end + 1) : b]);
  },
};

let env: PipelineEnv;
let t: TestStack;
let server: OriginServer;
let cfg: Config;
let origin: Origin;
let store: ObjectStore;
let ledger: Ledger;
let current: PipelineDriver;

beforeAll(async () => {
  env = await startPipelineEnv(content, {
    DEST_PREFIX: 'media/',
    TRANSFER_CHUNK_FILES: '4',
    TRANSFER_RETRY_BASE_MS: '5',
  });
  ({ t, server, cfg, origin, store, ledger } = env);
  current = pipelineDriver(env);
  for (const c of library.classes) current.crawl(c.id, `${server.url}${c.manifestPath}`);
  expect((await current.run(1000)).deadLettered).toEqual([]);
  for (const c of library.classes) expect(await ledger.getClass(c.id)).toMatchObject({ status: 'COMPLETE' });
}, 240_000);
afterAll(() => env?.stop());

const keyOf = (c: SampleClass, path: string) => copyKeyOf(cfg.destPrefix, c.id, server.url, path);
const opts = () => ({ destPrefix: cfg.destPrefix, maxPlaylistBytes: cfg.hls.maxPlaylistBytes });
const verify = (c: SampleClass, s: ObjectStore = store): Promise<ClassVerification> =>
  verifyClass(c.id, ledger, s, opts());
const found = (v: ClassVerification) =>
  v.findings.map((f: Finding) => ({ kind: f.kind, key: f.key, ...(f.target ? { target: f.target } : {}) }));

async function bytesAt(key: string): Promise<Buffer> {
  const res = await t.aws.s3.send(new GetObjectCommand({ Bucket: cfg.destBucket, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}
/** Another tool's write: plain bytes, none of FLAnts' metadata. */
const put = (key: string, body: Buffer | string) =>
  t.aws.s3.send(new PutObjectCommand({ Bucket: cfg.destBucket, Key: key, Body: body }));
const mediaPaths = (c: SampleClass, kind: 'segment' | 'playlist') =>
  c.paths.filter((p) => library.file(p)!.kind === kind && !p.endsWith('master.m3u8'));

describe('issue 22: flants verify reports each tampering exactly, by key', () => {
  it('an untouched class verifies OK with a HEAD per file and one listing, nothing else (counted at a proxy)', async () => {
    const c = library.classes[7]!;
    const ops: S3Operation[] = [];
    const rec = await recordingS3(t, (op) => ops.push(op));
    try {
      const counted = createObjectStore(rec.s3, cfg.destBucket, { partSizeBytes: cfg.transfer.partSizeBytes });
      const v = await verify(c, counted);
      expect(v).toMatchObject({ verdict: 'OK', result: 'OK', files: c.files, counts: {}, playlistsRead: 0 });
      expect(v.findings).toEqual([]);
      const byOp = new Map<string, number>();
      for (const op of ops) byOp.set(op.operation, (byOp.get(op.operation) ?? 0) + 1);
      expect(Object.fromEntries(byOp)).toEqual({ HeadObject: c.files, ListObjectsV2: 1 });
      expect(new Set(ops.filter((o) => o.operation === 'HeadObject').map((o) => o.key))).toEqual(
        new Set(c.paths.map((p) => keyOf(c, p))),
      );
      expect(v.requests).toEqual({ list: 1, head: c.files, get: 0, origin: 0 });
    } finally {
      await rec.close();
    }
  });

  it('an object deleted: missing, and the playlist naming it has a dangling reference', async () => {
    const c = library.classes[0]!;
    const seg = mediaPaths(c, 'segment')[0]!;
    const key = keyOf(c, seg);
    const namers = mediaPaths(c, 'playlist').filter((p) => library.bytes(p).toString().includes(seg.split('/').pop()!));
    await t.aws.s3.send(new DeleteObjectCommand({ Bucket: cfg.destBucket, Key: key }));
    const v = await verify(c);
    expect(v.verdict).toBe('FINDINGS');
    const f = found(v);
    expect(f.filter((x) => x.kind !== 'danglingReference')).toEqual([{ kind: 'missing', key }]);
    // What the deleted object makes unplayable: each copied playlist that names it.
    expect(f.filter((x) => x.kind === 'danglingReference').every((x) => x.target === key)).toBe(true);
    expect(new Set(f.filter((x) => x.kind === 'danglingReference').map((x) => x.key))).toEqual(
      new Set(namers.map((p) => keyOf(c, p)).filter((k) => f.some((x) => x.key === k))),
    );
    expect(f.some((x) => x.kind === 'danglingReference')).toBe(true);
  });

  it('an object truncated: sizeMismatch, nothing else', async () => {
    const c = library.classes[1]!;
    const key = keyOf(c, mediaPaths(c, 'segment')[0]!);
    const whole = await bytesAt(key);
    await put(key, whole.subarray(0, whole.length - 100));
    const v = await verify(c);
    expect(found(v)).toEqual([{ kind: 'sizeMismatch', key }]);
    expect(v.findings[0]!.detail).toBe(`${whole.length - 100} bytes in the bucket, ${whole.length} counted`);
  });

  it('an object replaced by other bytes of the same size: checksumMismatch, nothing else', async () => {
    const c = library.classes[3]!;
    const key = keyOf(c, mediaPaths(c, 'segment')[1]!);
    await put(key, flip(await bytesAt(key)));
    const v = await verify(c);
    expect(found(v)).toEqual([{ kind: 'checksumMismatch', key }]);
  });

  it('an extra object under the class root: unexpected, nothing else (no playlist read)', async () => {
    const c = library.classes[4]!;
    const key = `${keyOf(c, c.manifestPath).replace(/master\.m3u8$/, '')}stray.bin`;
    await put(key, 'not ours');
    const v = await verify(c);
    expect(found(v)).toEqual([{ kind: 'unexpected', key }]);
    expect(v.playlistsRead).toBe(0);
  });

  it('a copied media playlist edited to name a missing segment: its checksum differs and the reference dangles', async () => {
    const c = library.classes[5]!;
    const path = mediaPaths(c, 'playlist')[0]!;
    const key = keyOf(c, path);
    const text = (await bytesAt(key)).toString('utf8');
    const line = text.split('\n').find((l) => l !== '' && !l.startsWith('#'))!;
    // Same length, so only the checksum tells.
    const edited = `x${line.slice(1)}`;
    await put(key, text.replace(line, edited));
    const target = keyOf(c, `${path.slice(0, path.lastIndexOf('/') + 1)}${edited}`);
    const v = await verify(c);
    expect(found(v)).toEqual([
      { kind: 'checksumMismatch', key },
      { kind: 'danglingReference', key, target },
    ]);
    expect(v.playlistsRead).toBeGreaterThanOrEqual(1);
  });

  it("a byte range beyond its object's size: rangeBeyondObject naming the object, and the playlist's checksum", async () => {
    const c = library.classes[2]!;
    expect(c.features).toContain('byterange');
    const path = c.paths.find((p) => p.endsWith('audio-en/index.m3u8'))!;
    const key = keyOf(c, path);
    const text = (await bytesAt(key)).toString('utf8');
    const m = /#EXT-X-BYTERANGE:(\d+)@(\d+)\n[^\n]+\n#EXT-X-ENDLIST/.exec(text)!;
    const wider = '9'.repeat(m[1]!.length);
    await put(key, text.replace(`#EXT-X-BYTERANGE:${m[1]}@${m[2]}`, `#EXT-X-BYTERANGE:${wider}@${m[2]}`));
    const media = keyOf(c, path.replace('index.m3u8', 'main.mp4'));
    const v = await verify(c);
    expect(found(v)).toEqual([
      { kind: 'checksumMismatch', key },
      { kind: 'rangeBeyondObject', key, target: media },
    ]);
    const size = library.stat(path.replace('index.m3u8', 'main.mp4'))!.size;
    expect(v.findings[1]!.detail).toBe(
      `byte range ${wider}@${m[2]} of ${media} ends at ${Number(wider) + Number(m[2])}, the object has ${size} bytes`,
    );
  });

  it('a ledger restored to an older generation than the bucket: ledgerBehindBucket for what the newer one wrote', async () => {
    const c = library.classes[6]!;
    const seg = mediaPaths(c, 'segment')[0]!;
    // The backup: every ledger item of the class at generation 1, COMPLETE.
    const backup = await classItems(c.id);
    changedAtOrigin.add(seg);
    current.crawl(c.id, `${server.url}${c.manifestPath}`, { force: true });
    expect((await current.run(200)).deadLettered).toEqual([]);
    expect(await ledger.getClass(c.id)).toMatchObject({ status: 'COMPLETE', gen: 2 });
    // The restore: the table as the backup had it.
    await writeItems(await classItems(c.id), 'delete');
    await writeItems(backup, 'put');
    expect(await ledger.getClass(c.id)).toMatchObject({ status: 'COMPLETE', gen: 1 });
    const v = await verify(c);
    expect(found(v)).toEqual([{ kind: 'ledgerBehindBucket', key: keyOf(c, seg) }]);
    expect(v.findings[0]!.detail).toMatch(
      /written by generation 2, the ledger is at generation 1 \(CRC32 .* counted\)/,
    );
  });

  it('--deep re-reads every object (a GET each, OK when untouched); --origin names the files the origin changed or no longer has', async () => {
    const c = library.classes[7]!;
    const deep = await verifyClass(c.id, ledger, store, { ...opts(), deep: true });
    expect(deep).toMatchObject({ verdict: 'OK', requests: { list: 1, head: c.files, get: c.files, origin: 0 } });
    const [changed, gone] = mediaPaths(c, 'segment');
    changedAtOrigin.add(changed!);
    goneFromOrigin.add(gone!);
    try {
      const v = await verifyClass(c.id, ledger, store, { ...opts(), origin });
      expect(v.requests.origin).toBe(c.files);
      expect(found(v).sort((a, b) => a.kind.localeCompare(b.kind))).toEqual([
        { kind: 'changedAtOrigin', key: keyOf(c, changed!) },
        { kind: 'goneAtOrigin', key: keyOf(c, gone!) },
      ]);
    } finally {
      changedAtOrigin.delete(changed!);
      goneFromOrigin.delete(gone!);
    }
  });

  it('the scheduled handler verifies the classes completed since its last run, keeps each result, and publishes the findings the alarm watches', async () => {
    const deps = buildDeps(cfg, t.log);
    const seen: Array<{ classId: string; findings: number; error: boolean }> = [];
    deps.events.on('classVerified', (e) => seen.push(e));
    try {
      const run = await verifyFor(deps)({}, { getRemainingTimeInMillis: () => 600_000 });
      // The first run: every COMPLETE class (the tampered ones above have findings, the untouched one none).
      expect(run).toMatchObject({ since: undefined, classes: library.classes.length, errors: 0, exitCode: 1 });
      expect(new Set(seen.map((e) => e.classId))).toEqual(new Set(library.classes.map((c) => c.id)));
      expect(seen.find((e) => e.classId === library.classes[7]!.id)).toEqual({
        classId: library.classes[7]!.id,
        findings: 0,
        error: false,
      });
      expect(seen.find((e) => e.classId === library.classes[1]!.id)!.findings).toBe(1);
      expect(await ledger.getClass(library.classes[1]!.id)).toMatchObject({
        verifyResult: 'sizeMismatch 1',
        verifyFindings: { sizeMismatch: 1 },
        verifiedGen: 1,
      });
      expect(await ledger.getClass(library.classes[7]!.id)).toMatchObject({ verifyResult: 'OK', verifyFindings: {} });
      // The next run: nothing completed since the first run began (its watermark).
      const mark = await ledger.getWatermark('verify');
      expect(mark).toBeDefined();
      const next = await verifyFor(deps)({}, { getRemainingTimeInMillis: () => 600_000 });
      expect(next).toMatchObject({ classes: 0, exitCode: 0 });
      expect(next.since).toBe(mark);
    } finally {
      await deps.close();
    }
  });
});

async function classItems(classId: string): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await t.aws.ddb.send(
      new QueryCommand({
        TableName: cfg.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `CLASS#${classId}` },
        ExclusiveStartKey: start,
      }),
    );
    out.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

async function writeItems(items: Array<Record<string, unknown>>, how: 'put' | 'delete'): Promise<void> {
  for (let i = 0; i < items.length; i += 25)
    await t.aws.ddb.send(
      new BatchWriteCommand({
        RequestItems: {
          [cfg.tableName]: items
            .slice(i, i + 25)
            .map((it) =>
              how === 'put' ? { PutRequest: { Item: it } } : { DeleteRequest: { Key: { pk: it.pk, sk: it.sk } } },
            ),
        },
      }),
    );
}
