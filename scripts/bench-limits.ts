/**
 * Measures issue 9's limits and prints figures (no test asserts a time; the numbers depend on the machine):
 *
 * - start-up: `flants status <id>` from process start to the first byte of its first request (a local TCP
 *   listener standing in for DynamoDB), and `flants --help` wall and CPU; with `--compare`, also from the
 *   sources through tsx (FLANTS_FROM_SOURCE=1), alternating run by run;
 * - crawl: one class of 5,000 segments × 8 variants from a local HTTP origin, through the crawler's own
 *   code (enumerateClass, then runCrawl: ledger writes and transfer jobs sent to the local SQS);
 * - copy: one 4 GiB file through copyFile and the S3 ObjectStore, in a child process
 *   (scripts/bench-copy-child.ts, bundled as deployed, then through tsx) whose peak RSS (VmHWM) is read;
 *   the origin makes the bytes on the fly and the destination (lab/s3-sink.ts) checks and drops them,
 *   so neither holds the file.
 *
 *   npm run bench:limits -- [--runs 7] [--only startup|crawl|copy ...] [--compare] [--gib 4] [--write]
 *
 * --write puts the figures into docs/BENCHMARKS.md (between the bench:limits markers of "Limits").
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startOriginServer, type OriginContent } from '../lab/origin-server.ts';
import { renderMaster, renderMedia } from '../lab/sample-hls.ts';
import { startS3Sink } from '../lab/s3-sink.ts';
import { startLocalStack } from '../lab/stack.ts';
import { loadConfig } from '../src/config.ts';
import { enumerateClass } from '../src/hls/enumerate.ts';
import { classRoot } from '../src/hls/keys.ts';
import { crawlJob } from '../src/domain/jobs/envelopes.ts';
import { createLogger } from '../src/log.ts';
import { setupResources } from '../src/ops/setup.ts';
import { loadServiceDefinition } from '../src/ops/service-definition.ts';
import { runCrawl } from '../src/pipeline/crawler.ts';
import { buildDeps } from '../src/wiring/deps.ts';
import type { CopyFigures } from './bench-copy-child.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const COPY_CHILD = fileURLToPath(new URL('./bench-copy-child.ts', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/flants.js', import.meta.url));
const DOC = fileURLToPath(new URL('../docs/BENCHMARKS.md', import.meta.url));
const SEGMENTS = 5_000;
const VARIANTS = 8;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    only: { type: 'string', multiple: true },
    compare: { type: 'boolean', default: false },
    gib: { type: 'string', default: '4' },
    write: { type: 'boolean', default: false },
  },
});

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** "median (min–max)". */
function spread(xs: readonly number[], digits = 0): string {
  if (xs.length === 1) return xs[0]!.toFixed(digits);
  return `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
}

// ---------------------------------------------------------------------------------------------- start-up

/**
 * Milliseconds from spawning `flants status <id>` to the first byte of its first request. The listener
 * answers nothing: the measured process is killed as soon as the byte arrives.
 */
async function startupToFirstRequest(fromSource: boolean[]): Promise<number[]> {
  let arrived: (() => void) | undefined;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('data', () => arrived?.());
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const out: number[] = [];
  try {
    for (const source of fromSource) {
      const env = {
        ...process.env,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'bench',
        AWS_SECRET_ACCESS_KEY: 'bench',
        AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}`,
        FLANTS_STAGE: 'bench',
        FLANTS_FROM_SOURCE: source ? '1' : '',
      };
      const firstByte = new Promise<void>((resolve) => (arrived = resolve));
      const started = performance.now();
      const child = spawn(process.execPath, [BIN, 'status', 'bench-class'], { env, stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      const first = await Promise.race([firstByte.then(() => 'request' as const), exited.then(() => 'exit' as const)]);
      if (first === 'exit') throw new Error('flants status exited before sending a request');
      out.push(performance.now() - started);
      child.kill('SIGKILL');
      await exited;
      for (const s of sockets) s.destroy();
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  return out;
}

/** `flants --help`: wall seconds, and user + system CPU seconds from /usr/bin/time (wall only without it). */
function helpCost(fromSource: boolean): { wall: number; cpu: number | undefined } {
  const timed = existsSync('/usr/bin/time');
  const env = { ...process.env, FLANTS_FROM_SOURCE: fromSource ? '1' : '' };
  const started = performance.now();
  const r = timed
    ? spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, BIN, '--help'], { encoding: 'utf8', env })
    : spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8', env });
  const wall = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`flants --help exited ${r.status}: ${r.stderr}`);
  if (!timed) return { wall, cpu: undefined };
  const [user, sys] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall, cpu: user! + sys! };
}

async function startup(runs: number, compare: boolean): Promise<string[]> {
  const lines: string[] = [];
  for (const source of compare ? [false, true] : [false]) {
    // Alternating with the other mode (when comparing) keeps a change of load from favouring one.
    const first = await startupToFirstRequest(Array.from({ length: runs }, () => source));
    const help = Array.from({ length: runs }, () => helpCost(source));
    const cpu = help.flatMap((h) => (h.cpu === undefined ? [] : [h.cpu]));
    const how = source ? 'from the sources through tsx (FLANTS_FROM_SOURCE=1)' : 'built (dist/cli)';
    lines.push(
      `start-up, ${how}: first request of \`flants status <id>\` after ${spread(first)} ms; ` +
        `\`flants --help\` wall ${spread(
          help.map((h) => h.wall),
          2,
        )} s${cpu.length ? `, CPU ${spread(cpu, 2)} s` : ''} (median (min–max) of ${runs})`,
    );
  }
  return lines;
}

// ------------------------------------------------------------------------------------------------- crawl

/** A master playlist with `variants` variants of `segments` segments each, as the lab's origin serves them. */
function bigClass(segments: number, variants: number): OriginContent & { master: string } {
  const files = new Map<string, Buffer>();
  const base = '/vod/bench';
  files.set(
    `${base}/master.m3u8`,
    Buffer.from(
      renderMaster({
        version: 3,
        renditions: [],
        iframes: [],
        variants: Array.from({ length: variants }, (_, v) => ({
          bandwidth: 500_000 * (v + 1),
          averageBandwidth: 450_000 * (v + 1),
          width: 320 * (v + 1),
          height: 180 * (v + 1),
          codecs: 'avc1.640028,mp4a.40.2',
          frameRate: 30,
          uri: `v${v}/index.m3u8`,
        })),
      }),
    ),
  );
  for (let v = 0; v < variants; v++) {
    const entries = Array.from({ length: segments }, (_, i) => ({
      uri: `seg-${String(i).padStart(5, '0')}.ts`,
      duration: 6,
    }));
    files.set(`${base}/v${v}/index.m3u8`, Buffer.from(renderMedia({ targetDuration: 6, entries })));
  }
  return {
    master: `${base}/master.m3u8`,
    stat: (path) => {
      const f = files.get(path);
      return f && { size: f.length, contentType: 'application/vnd.apple.mpegurl' };
    },
    read: (path, range) => {
      const f = files.get(path)!;
      return Readable.from([range ? f.subarray(range.start, range.end + 1) : f]);
    },
  };
}

async function crawl(runs: number): Promise<string[]> {
  const content = bigClass(SEGMENTS, VARIANTS);
  const [stack, origin] = await Promise.all([startLocalStack(['sqs', 's3', 'dynamodb']), startOriginServer(content)]);
  const log = createLogger({}, 'silent');
  const cfg = loadConfig({
    ...process.env,
    ...stack.env,
    FLANTS_STAGE: 'benchlimits',
    ORIGIN_ALLOWED_HOSTS: new URL(origin.url).host,
  });
  const deps = buildDeps(cfg, log);
  try {
    await setupResources(cfg, loadServiceDefinition(cfg.stage), deps.aws);
    const manifestUrl = `${origin.url}${content.master}`;
    const enumMs: number[] = [];
    const crawlMs: number[] = [];
    const sendMs: number[] = [];
    let files = 0;
    let jobs = 0;
    for (let run = 0; run < runs; run++) {
      let started = performance.now();
      const listed = await enumerateClass(manifestUrl, deps.origin, {
        limits: cfg.hls,
        destPrefix: classRoot(cfg.destPrefix, 'bench'),
        allowedHosts: cfg.originAllowedHosts,
      });
      enumMs.push(performance.now() - started);
      files = listed.files.length;
      // The crawler's whole job: ledger reads and writes, enumeration, chunking and the transfer jobs sent.
      let sending = 0;
      const queue = {
        ...deps.queue,
        sendAll: async (...args: Parameters<typeof deps.queue.sendAll>) => {
          const t = performance.now();
          try {
            await deps.queue.sendAll(...args);
          } finally {
            sending += performance.now() - t;
          }
        },
      };
      started = performance.now();
      const r = await runCrawl(crawlJob({ classId: `bench-${run}-${Date.now()}`, manifestUrl }), { ...deps, queue });
      crawlMs.push(performance.now() - started);
      sendMs.push(sending);
      jobs = r.sent ?? 0;
    }
    return [
      `crawl of one class, ${SEGMENTS.toLocaleString('en')} segments × ${VARIANTS} variants (${files.toLocaleString('en')} files): ` +
        `enumeration ${spread(enumMs)} ms; the crawler's whole job (runCrawl: ledger, enumeration, ${jobs.toLocaleString('en')} transfer jobs) ` +
        `${spread(crawlMs)} ms, of which sending the jobs to SQS ${spread(sendMs)} ms (median (min–max) of ${runs}, first run included)`,
    ];
  } finally {
    await deps.close();
    await origin.close();
    await stack.stop();
  }
}

// -------------------------------------------------------------------------------------------------- copy

/** `bytes` generated on demand (a 1 MiB pattern, repeated): the origin holds no file. */
function generatedFile(path: string, bytes: number): OriginContent {
  const pattern = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 2_654_435_761) >>> 24;
  return {
    stat: (p) => (p === path ? { size: bytes, contentType: 'video/mp2t' } : undefined),
    read: (_p, range) => {
      const start = range?.start ?? 0;
      const end = range ? range.end + 1 : bytes;
      return Readable.from(
        (function* () {
          for (let at = start; at < end;) {
            const offset = at % pattern.length;
            const n = Math.min(pattern.length - offset, end - at);
            yield pattern.subarray(offset, offset + n);
            at += n;
          }
        })(),
        { objectMode: false },
      );
    },
  };
}

/** The copy's child process as the deployed code runs: bundled by esbuild (like the Lambda package and dist/cli). */
async function bundledCopyChild(): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = join(ROOT, 'dist', 'bench', 'copy-child.mjs');
  await build({
    entryPoints: [COPY_CHILD],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    external: ['tsx'],
    // Bundled CommonJS dependencies call require() for Node built-ins (as in scripts/build-cli.mjs).
    banner: {
      js: "import { createRequire as __flantsCreateRequire } from 'node:module'; const require = __flantsCreateRequire(import.meta.url);",
    },
    logLevel: 'error',
  });
  return outfile;
}

/** Runs one copy in a child process (bundled, or the sources through tsx) and returns its figures. */
async function copyOnce(env: NodeJS.ProcessEnv, args: string[]): Promise<CopyFigures> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the copy's process exited ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as CopyFigures;
}

async function copy(gib: number): Promise<string[]> {
  const bytes = Math.round(gib * 1024 ** 3);
  const path = '/vod/big/huge.ts';
  const [origin, sink] = await Promise.all([startOriginServer(generatedFile(path, bytes)), startS3Sink()]);
  try {
    const env = {
      ...process.env,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL_S3: sink.url,
      DEST_BUCKET: 'bench-sink',
      FLANTS_STAGE: 'bench',
      FLANTS_LOG_LEVEL: 'silent',
      ORIGIN_ALLOWED_HOSTS: new URL(origin.url).host,
      TRANSFER_MAX_FILE_MB: String(Math.ceil(bytes / 1024 / 1024) + 1),
      BENCH_SRC: `${origin.url}${path}`,
    };
    const lines: string[] = [];
    const modes: Array<[string, string[]]> = [
      ['bundled, as Lambda and dist/cli run it', [await bundledCopyChild()]],
      ['from the sources through tsx', ['--import', 'tsx', COPY_CHILD]],
    ];
    for (const [how, args] of modes) {
      const before = sink.stats();
      const f = await copyOnce(env, args);
      const stored = sink.stats();
      if (f.bytes !== bytes || stored.bytes - before.bytes !== bytes || stored.objects - before.objects !== 1)
        throw new Error(`copied ${f.bytes} bytes; the sink received ${stored.bytes - before.bytes}`);
      lines.push(
        `copy of one ${gib} GiB file ${how}, copyFile → S3 ObjectStore (${f.parts} parts of ${f.partSizeMib} MiB, CRC32-checked by the sink): ` +
          `peak RSS ${f.peakRssMib.toFixed(0)} MiB (VmHWM; ${f.rssBeforeMib.toFixed(0)} MiB before the copy started; at the largest ` +
          `RSS sampled, ${f.sampledPeakMib.toFixed(0)} MiB, buffers held ${f.atPeak.arrayBuffersMib.toFixed(0)} MiB and the JS heap ` +
          `${f.atPeak.heapUsedMib.toFixed(0)} MiB), ${f.seconds.toFixed(1)} s, ${(bytes / 1e6 / f.seconds).toFixed(0)} MB/s`,
      );
    }
    return lines;
  } finally {
    await origin.close();
    await sink.close();
  }
}

// -------------------------------------------------------------------------------------------------- main

function writeSection(lines: readonly string[], command: string): void {
  const begin = '<!-- bench:limits begin -->';
  const end = '<!-- bench:limits end -->';
  const doc = readFileSync(DOC, 'utf8');
  const block = `${begin}\n${lines.map((l) => `- ${l}`).join('\n')}\n\nCommand: \`${command}\`.\n${end}`;
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  const next =
    i >= 0 && j > i
      ? `${doc.slice(0, i)}${block}${doc.slice(j + end.length)}`
      : `${doc.trimEnd()}\n\n## Limits\n\n${block}\n`;
  writeFileSync(DOC, next);
}

async function main(): Promise<void> {
  const runs = Number(values.runs);
  const wanted = (part: string): boolean => !values.only?.length || values.only.includes(part);
  const lines: string[] = [];
  const say = (more: string[]) => {
    for (const l of more) console.log(l);
    lines.push(...more);
  };
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  const loadBefore = load();
  if (wanted('startup')) say(await startup(runs, values.compare));
  if (wanted('crawl')) say(await crawl(Math.min(runs, 5)));
  if (wanted('copy')) say(await copy(Number(values.gib)));
  say([
    `Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}; load average ${loadBefore} at the start, ${load()} at the end (1, 5, 15 min); Node ${process.version}.`,
  ]);
  if (values.write) writeSection(lines, `npm run bench:limits -- ${process.argv.slice(2).join(' ')}`.trim());
}

await main();
