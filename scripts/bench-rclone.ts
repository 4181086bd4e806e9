// Over 400 lines on purpose: one benchmark script, run by people, whose steps (library, nginx, servers, both tools, the table) read top to bottom.
/**
 * FLAnts against `rclone copy` on the same bytes: one fixed sample library written to disk and
 * served by nginx (`autoindex on`, so rclone's HTTP backend can list it), a fresh local S3 server
 * per run, the tools alternating. Every run's bucket is checked (object count and bytes). Prints one
 * table and writes it to docs/BENCHMARKS.md (unless --no-write). Asserts no time: figures only.
 *
 *   npm run bench:rclone -- [--mb 1000] [--runs 3] [--transfer N] [--workers N] [--env K=V ...] [--only flants|rclone] [--node-args '--cpu-prof ...'] [--no-write]
 *
 * Worker CPU and peak RSS are each tool's own processes (`/usr/bin/time`: user+sys, max RSS of the
 * process it runs), so the origin, the local servers and this script are not in them. Requests are
 * counted by counting proxies in front of the local SQS, DynamoDB and S3 servers; both tools go
 * through the same proxies, which cost this script's CPU, not theirs.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { cpus, tmpdir, totalmem, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { S3Client, CreateBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { MongoClient } from 'mongodb';
import { generateLibrary, LIBRARY_ENV, type SampleLibrary } from '../lab/library.ts';
import { s3Operation } from '../lab/s3-operations.ts';
import { startLocalStack, type LocalStack } from '../lab/stack.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { loadServiceDefinition } from '../src/ops/service-definition.ts';
import { setupResources } from '../src/ops/setup.ts';
import { buildDeps } from '../src/wiring/deps.ts';
import { freePort } from '../lab/free-port.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '1000' },
    segments: { type: 'string', default: '44' },
    runs: { type: 'string', default: '3' },
    transfer: { type: 'string' },
    workers: { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    'no-write': { type: 'boolean', default: false },
    only: { type: 'string' },
    // e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": flags for FLAnts' node processes (not allowed in NODE_OPTIONS).
    'node-args': { type: 'string', default: '' },
  },
});

// ---- tools -------------------------------------------------------------------------------------

/** Installs nginx-light and rclone from Debian when they are missing (CI machines are fresh). */
function ensureTools(): void {
  const missing = [
    ['nginx', 'nginx-light'],
    ['rclone', 'rclone'],
  ].filter(([bin]) => spawnSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`]).status !== 0);
  if (!existsSync('/usr/bin/time')) missing.push(['time', 'time']);
  if (missing.length === 0) return;
  const pkgs = missing.map(([, p]) => p!);
  console.error(`installing ${pkgs.join(' ')} (apt-get)`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const apt = (...args: string[]) =>
    execFileSync(sudo[0] ?? 'apt-get', [...(sudo.length ? ['apt-get'] : []), ...args], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  try {
    apt('install', '-y', '--no-install-recommends', ...pkgs);
  } catch {
    apt('update');
    apt('install', '-y', '--no-install-recommends', ...pkgs);
  }
}

const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';

function version(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.split('\n')[0]!.trim();
}

// ---- origin: the library on disk, nginx -------------------------------------------------------

function materialise(library: SampleLibrary, dir: string): void {
  for (const path of library.paths()) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, library.bytes(path));
  }
}

async function startNginx(root: string, work: string): Promise<{ url: string; pid: number; stop: () => void }> {
  const port = await freePort();
  const conf = join(work, 'nginx.conf');
  // One worker: the origin is the same for both tools and should not take a core from them.
  writeFileSync(
    conf,
    `daemon off;
worker_processes 1;
pid ${join(work, 'nginx.pid')};
error_log ${join(work, 'nginx-error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  keepalive_timeout 60s;
  client_body_temp_path ${work}/nginx-body;
  proxy_temp_path ${work}/nginx-proxy;
  fastcgi_temp_path ${work}/nginx-fastcgi;
  uwsgi_temp_path ${work}/nginx-uwsgi;
  scgi_temp_path ${work}/nginx-scgi;
  types {
    application/vnd.apple.mpegurl m3u8;
    video/mp2t ts;
    video/iso.segment m4s;
    video/mp4 mp4;
    audio/aac aac;
    text/vtt vtt;
    application/octet-stream key bin;
    application/json json;
  }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    autoindex on;
  }
}
`,
  );
  const child = spawn(NGINX, ['-c', conf, '-e', join(work, 'nginx-error.log')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/`).then(
      () => true,
      () => false,
    );
    if (ok) return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => void child.kill('SIGQUIT') };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`nginx did not start; see ${join(work, 'nginx-error.log')}`);
}

// ---- counting proxies --------------------------------------------------------------------------

type Counts = Record<string, number>;

interface CountingProxy {
  url: string;
  counts: Counts;
  reset(): void;
  close(): Promise<void>;
}

/** What an S3 request is, from its method, path and query (the SDK and rclone both use path style here). */
const s3Kind = (req: IncomingMessage): string => s3Operation(req.method, req.url, req.headers).operation;

/** SQS (JSON protocol) and DynamoDB name their operation in X-Amz-Target. */
function targetKind(req: IncomingMessage): string {
  const t = req.headers['x-amz-target'];
  return typeof t === 'string' ? t.slice(t.lastIndexOf('.') + 1) : `${req.method} ${req.url}`;
}

async function startCountingProxy(target: string, kind: (req: IncomingMessage) => string): Promise<CountingProxy> {
  const up = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let counts: Counts = {};
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const k = kind(req);
    counts[k] = (counts[k] ?? 0) + 1;
    const fwd = httpRequest(
      { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers, agent },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    fwd.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(fwd);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    get counts() {
      return counts;
    },
    reset: () => void (counts = {}),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        agent.destroy();
        server.close(() => r());
      }),
  };
}

// ---- measuring a process -----------------------------------------------------------------------

interface Measured {
  code: number;
  wallMs: number;
  cpuMs: number;
  peakRssMb: number;
  stdout: string;
  stderr: string;
}

/** Runs a command under /usr/bin/time: its own user+sys CPU and max RSS, as the kernel counted them. */
async function measured(cmd: string, args: string[], env: NodeJS.ProcessEnv, work: string): Promise<Measured> {
  const timeFile = join(work, `time-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const started = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, cmd, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-20_000)));
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  const code = await new Promise<number>((r) => child.once('exit', (c) => r(c ?? 1)));
  const wallMs = performance.now() - started;
  const [user, sys, rssKb] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  rmSync(timeFile, { force: true });
  return { code, wallMs, cpuMs: ((user ?? 0) + (sys ?? 0)) * 1000, peakRssMb: (rssKb ?? 0) / 1024, stdout, stderr };
}

/** User+sys CPU milliseconds a live process has used so far (/proc/<pid>/stat, clock ticks of 10 ms). */
function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

// ---- one run -----------------------------------------------------------------------------------

interface RunResult {
  tool: 'rclone' | 'flants';
  wallS: number;
  cpuS: number;
  peakRssMb: number;
  s3CpuS: number;
  objects: number;
  bytes: number;
  complete: boolean;
  requests: { sqs: Counts; dynamodb: Counts; s3: Counts };
  invocations: Record<string, number>;
  note: string;
}

async function bucketTotals(endpoint: string, bucket: string): Promise<{ objects: number; bytes: number }> {
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  let objects = 0;
  let bytes = 0;
  let token: string | undefined;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of r.Contents ?? []) {
      objects++;
      bytes += o.Size ?? 0;
    }
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  s3.destroy();
  return { objects, bytes };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Load average when the benchmark started: figures taken on a busy machine say so. */
const loadAtStart = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');

async function main(): Promise<void> {
  ensureTools();
  const runs = Number(values.runs);
  const segments = Number(values.segments);
  // About 1,000 MB at 44 segments per rendition; the knob scales segment sizes, not the file count.
  const segmentBytes = Math.max(1024, Math.round(((Number(values.mb) / 1003) * 50 * 448 * 1024) / segments));
  const library = generateLibrary({
    classes: 10,
    variants: 4,
    segmentsPerRendition: segments,
    segmentBytes,
    segmentSeconds: 4,
    seed: 'rclone-bench',
  });
  const work = mkdtempSync(join(tmpdir(), 'flants-bench-rclone-'));
  // nginx's worker runs as an unprivileged user when started as root: it must be able to read the tree.
  chmodSync(work, 0o755);
  const www = join(work, 'www');
  console.error(
    `library: ${library.classes.length} classes, ${library.totalFiles} files, ${(library.totalBytes / 1e6).toFixed(0)} MB → ${www}`,
  );
  materialise(library, www);

  const nginx = await startNginx(www, work);
  const shared: LocalStack = await startLocalStack(['sqs', 'dynamodb', 'mongodb']);
  const sqsProxy = await startCountingProxy(shared.endpoints.sqs!, targetKind);
  const ddbProxy = await startCountingProxy(shared.endpoints.dynamodb!, targetKind);
  const log = createLogger({}, 'error');
  const mongo = await new MongoClient(shared.env.MONGODB_URI!).connect();
  await mongo.db().collection('classes').insertMany(library.catalogDocuments(nginx.url));
  await mongo.close();

  const userEnv = Object.fromEntries(
    values.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  const results: RunResult[] = [];
  const order: Array<'rclone' | 'flants'> = [];
  for (let i = 0; i < runs; i++) {
    if (values.only !== 'flants') order.push('rclone');
    if (values.only !== 'rclone') order.push('flants');
  }

  try {
    for (const [i, tool] of order.entries()) {
      const s3Stack = await startLocalStack(['s3']);
      const s3Proxy = await startCountingProxy(s3Stack.endpoints.s3!, s3Kind);
      const stage = `bench-${i}`;
      const bucket = `flants-${stage}-media`;
      try {
        let m: Measured;
        let invocations: Record<string, number> = {};
        if (tool === 'rclone') {
          const s3 = new S3Client({
            region: 'us-east-1',
            endpoint: s3Stack.endpoints.s3!,
            forcePathStyle: true,
            credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          });
          await s3.send(new CreateBucketCommand({ Bucket: bucket }));
          s3.destroy();
          const env: NodeJS.ProcessEnv = {
            PATH: process.env.PATH,
            HOME: work,
            RCLONE_CONFIG: join(work, 'rclone.conf'),
            RCLONE_CONFIG_ORIGIN_TYPE: 'http',
            RCLONE_CONFIG_ORIGIN_URL: `${nginx.url}/`,
            RCLONE_CONFIG_DEST_TYPE: 's3',
            RCLONE_CONFIG_DEST_PROVIDER: 'Other',
            RCLONE_CONFIG_DEST_ACCESS_KEY_ID: 'local',
            RCLONE_CONFIG_DEST_SECRET_ACCESS_KEY: 'local',
            RCLONE_CONFIG_DEST_REGION: 'us-east-1',
            RCLONE_CONFIG_DEST_ENDPOINT: s3Proxy.url,
            RCLONE_CONFIG_DEST_FORCE_PATH_STYLE: 'true',
            // The local S3 refuses bodies over 11 MiB: rclone uses multipart above 8 MiB, as FLAnts does (TRANSFER_PART_SIZE_MB=8).
            RCLONE_CONFIG_DEST_UPLOAD_CUTOFF: '8M',
            RCLONE_CONFIG_DEST_CHUNK_SIZE: '8M',
          };
          await sleep(500);
          s3Proxy.reset();
          const s3CpuBefore = processCpuMs(s3Stack.pids.s3);
          m = await measured(
            'rclone',
            [
              'copy',
              'origin:vod',
              `dest:${bucket}/vod`,
              '--transfers',
              '32',
              '--checkers',
              '32',
              '--size-only',
              '--no-check-dest',
              '--s3-no-head',
              '--s3-no-check-bucket',
            ],
            env,
            work,
          );
          results.push(await finish(tool, m, s3CpuBefore));
        } else {
          const env: Record<string, string> = {
            ...shared.env,
            AWS_ENDPOINT_URL_SQS: sqsProxy.url,
            AWS_ENDPOINT_URL_DYNAMODB: ddbProxy.url,
            AWS_ENDPOINT_URL_S3: s3Proxy.url,
            FLANTS_STAGE: stage,
            DEST_PREFIX: 'library/',
            ORIGIN_ALLOWED_HOSTS: new URL(nginx.url).host,
            TRANSFER_PART_SIZE_MB: '8',
            // The library's DASH manifests too: rclone copies every file, so FLAnts must as well.
            ...LIBRARY_ENV,
            ...userEnv,
          };
          // Queues, table and bucket are made before the clock starts, as a deployment would have them.
          const cfg = loadConfig({
            ...env,
            AWS_ENDPOINT_URL_SQS: shared.endpoints.sqs!,
            AWS_ENDPOINT_URL_DYNAMODB: shared.endpoints.dynamodb!,
            AWS_ENDPOINT_URL_S3: s3Stack.endpoints.s3!,
          });
          const deps = buildDeps(cfg, log);
          await setupResources(cfg, loadServiceDefinition(stage), deps.aws, { visibilityTimeout: 30 });
          await deps.close();
          const childEnv: NodeJS.ProcessEnv = {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            ...env,
            FLANTS_LOG_LEVEL: 'warn',
          };
          await sleep(500);
          sqsProxy.reset();
          ddbProxy.reset();
          s3Proxy.reset();
          const s3CpuBefore = processCpuMs(s3Stack.pids.s3);
          const nodeArgs = values['node-args'].split(' ').filter(Boolean);
          const flants = join(ROOT, 'bin/flants.js');
          const scan = await measured(process.execPath, [...nodeArgs, flants, 'scan'], childEnv, work);
          if (scan.code !== 0) throw new Error(`flants scan failed: ${scan.stderr}`);
          const runArgs = [...nodeArgs, flants, 'run', '--until-idle', '--timeout', '1200'];
          if (values.transfer) runArgs.push('--concurrency', `transfer=${values.transfer}`);
          if (values.workers) runArgs.push('--workers', values.workers);
          const run = await measured(process.execPath, runArgs, childEnv, work);
          // One "Stopped." line per worker process (`--workers`): handler invocations are their sum.
          invocations = { scan: 0, crawl: 0, transfer: 0 };
          for (const b of `${run.stdout}${run.stderr}`.matchAll(/Batches: scan (\d+), crawl (\d+), transfer (\d+)/g)) {
            invocations.scan! += Number(b[1]);
            invocations.crawl! += Number(b[2]);
            invocations.transfer! += Number(b[3]);
          }
          m = {
            code: run.code || scan.code,
            wallMs: scan.wallMs + run.wallMs,
            cpuMs: scan.cpuMs + run.cpuMs,
            peakRssMb: Math.max(scan.peakRssMb, run.peakRssMb),
            stdout: run.stdout,
            stderr: run.stderr,
          };
          results.push(await finish(tool, m, s3CpuBefore, invocations));
        }
        const r = results.at(-1)!;
        console.error(
          `${tool} run ${Math.floor(i / (values.only ? 1 : 2)) + 1}: ${r.wallS.toFixed(2)} s, ${(library.totalBytes / 1e6 / r.wallS).toFixed(0)} MB/s, CPU ${r.cpuS.toFixed(2)} s, RSS ${r.peakRssMb.toFixed(0)} MB, S3 server CPU ${r.s3CpuS.toFixed(2)} s, ${r.objects}/${library.totalFiles} objects${r.complete ? '' : ' — INCOMPLETE'}${r.note ? ` (${r.note})` : ''}`,
        );

        async function finish(
          t: 'rclone' | 'flants',
          mm: Measured,
          s3CpuBefore: number,
          inv: Record<string, number> = {},
        ): Promise<RunResult> {
          const s3CpuS = (processCpuMs(s3Stack.pids.s3) - s3CpuBefore) / 1000;
          const requests = { sqs: { ...sqsProxy.counts }, dynamodb: { ...ddbProxy.counts }, s3: { ...s3Proxy.counts } };
          if (t === 'rclone') {
            requests.sqs = {};
            requests.dynamodb = {};
          }
          const totals = await bucketTotals(s3Stack.endpoints.s3!, bucket);
          const complete =
            mm.code === 0 && totals.objects === library.totalFiles && totals.bytes === library.totalBytes;
          const note = [
            mm.code !== 0 ? `exit ${mm.code}: ${mm.stderr.trim().split('\n').slice(-3).join(' | ')}` : '',
            complete ? '' : `bucket holds ${totals.objects} objects, ${totals.bytes} bytes`,
          ]
            .filter(Boolean)
            .join('; ');
          return {
            tool: t,
            wallS: mm.wallMs / 1000,
            cpuS: mm.cpuMs / 1000,
            peakRssMb: mm.peakRssMb,
            s3CpuS,
            ...totals,
            complete,
            requests,
            invocations: inv,
            note,
          };
        }
      } finally {
        await s3Proxy.close();
        await s3Stack.stop();
      }
    }
  } finally {
    await sqsProxy.close();
    await ddbProxy.close();
    await shared.stop();
    nginx.stop();
  }
  report(results, library);
  rmSync(work, { recursive: true, force: true });
}

// ---- the table -----------------------------------------------------------------------------------

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (x: number, d = 1) => x.toFixed(d);
const cell = (xs: number[], d = 1) =>
  xs.length === 0 ? '–' : `${fmt(median(xs), d)} (${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)})`;

function report(results: RunResult[], library: SampleLibrary): void {
  const mb = library.totalBytes / 1e6;
  const files = library.totalFiles;
  const rows: string[] = [];
  const line = (s: string) => rows.push(s);
  const by = (t: 'rclone' | 'flants') => results.filter((r) => r.tool === t);
  line(
    `| tool | runs complete | wall s | MB/s | files/s | worker CPU s | CPU ms/file | peak RSS MB | S3 server CPU s |`,
  );
  line(`|---|---|---|---|---|---|---|---|---|`);
  for (const t of ['rclone', 'flants'] as const) {
    const rs = by(t);
    if (rs.length === 0) continue;
    line(
      `| ${t} | ${rs.filter((r) => r.complete).length}/${rs.length} | ${cell(
        rs.map((r) => r.wallS),
        2,
      )} | ${cell(
        rs.map((r) => mb / r.wallS),
        0,
      )} | ${cell(
        rs.map((r) => files / r.wallS),
        0,
      )} | ${cell(
        rs.map((r) => r.cpuS),
        2,
      )} | ${cell(
        rs.map((r) => (r.cpuS * 1000) / files),
        2,
      )} | ${cell(
        rs.map((r) => r.peakRssMb),
        0,
      )} | ${cell(
        rs.map((r) => r.s3CpuS),
        2,
      )} |`,
    );
  }
  const pairs = Math.min(by('rclone').length, by('flants').length);
  const ratios: string[] = [];
  for (let i = 0; i < pairs; i++) {
    const r = by('rclone')[i]!;
    const f = by('flants')[i]!;
    ratios.push(`pair ${i + 1}: speed ${fmt(r.wallS / f.wallS, 2)}×, CPU per file ${fmt(f.cpuS / r.cpuS, 2)}×`);
  }
  const economy: string[] = [];
  for (const t of ['rclone', 'flants'] as const) {
    const rs = by(t);
    if (rs.length === 0) continue;
    const per = (get: (r: RunResult) => Counts) => {
      const kinds = new Set(rs.flatMap((r) => Object.keys(get(r))));
      return [...kinds]
        .sort()
        .map((k) => `${k} ${fmt(median(rs.map((r) => ((get(r)[k] ?? 0) * 1000) / files)), 0)}`)
        .join(', ');
    };
    const total = (c: Counts) => Object.values(c).reduce((a, b) => a + b, 0);
    economy.push(
      `| ${t} | ${fmt(median(rs.map((r) => (total(r.requests.s3) * 1000) / files)), 0)} (${per((r) => r.requests.s3)}) | ${fmt(median(rs.map((r) => (total(r.requests.sqs) * 1000) / files)), 0)}${t === 'flants' ? ` (${per((r) => r.requests.sqs)})` : ''} | ${fmt(median(rs.map((r) => (total(r.requests.dynamodb) * 1000) / files)), 0)}${t === 'flants' ? ` (${per((r) => r.requests.dynamodb)})` : ''} | ${t === 'flants' ? ['scan', 'crawl', 'transfer'].map((k) => `${k} ${fmt(median(rs.map((r) => ((r.invocations[k] ?? 0) * 1000) / files)), 1)}`).join(', ') : '–'} |`,
    );
  }
  const incomplete = results.filter((r) => !r.complete).map((r) => `- ${r.tool}: incomplete copy: ${r.note}`);
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const table = [
    `Library: ${library.classes.length} classes, ${files} files, ${fmt(mb, 0)} MB (average ${fmt(library.totalBytes / files / 1024, 0)} KB). Medians (min–max) of ${pairs || results.length} run(s) each, alternating.`,
    '',
    ...rows,
    '',
    `FLAnts/rclone, pair by pair (speed: rclone wall ÷ FLAnts wall, above 1 is FLAnts faster; CPU: FLAnts ÷ rclone, below 1 is FLAnts cheaper): ${ratios.join('; ') || '–'}.`,
    '',
    'Requests per 1,000 files (medians):',
    '',
    '| tool | S3 (by kind) | SQS | DynamoDB | handler invocations |',
    '|---|---|---|---|---|',
    ...economy,
    '',
    ...(incomplete.length
      ? ['Incomplete copies:', ...incomplete, '']
      : ['Every run’s bucket held every file, byte count exact.', '']),
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${fmt(totalmem() / 2 ** 30, 1)} GiB; load average at the start ${loadAtStart}, at the end ${load} (1, 5, 15 min); Node ${process.version}; ${version('rclone', ['version'])}; ${version(NGINX, ['-v'])}; fauxqs ${(JSON.parse(readFileSync(join(ROOT, 'node_modules/fauxqs/package.json'), 'utf8')) as { version: string }).version}.`,
    `Command: \`npm run bench:rclone -- ${process.argv.slice(2).join(' ')}\`.`,
  ].join('\n');
  console.log(table);
  if (!values['no-write']) {
    const doc = join(ROOT, 'docs/BENCHMARKS.md');
    const begin = '<!-- bench:rclone begin -->';
    const end = '<!-- bench:rclone end -->';
    const block = `${begin}\n${table}\n${end}`;
    const old = existsSync(doc) ? readFileSync(doc, 'utf8') : `# Benchmarks\n\n${begin}\n${end}\n`;
    writeFileSync(
      doc,
      old.includes(begin)
        ? old.replace(new RegExp(`${begin}[\\s\\S]*?${end}`), () => block)
        : `${old.trimEnd()}\n\n${block}\n`,
    );
    console.error(`written to ${doc}`);
  }
}

await main();
