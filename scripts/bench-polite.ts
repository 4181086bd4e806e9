/**
 * Politeness to the origin (issue 23): the whole pipeline (`flants scan`, then `flants run --workers N
 * --until-idle` from the built CLI) copies a sample library from the lab origin, which measures what it
 * sees: the most requests that arrived within any one second and the most body bytes it sent within
 * any one second. Runs without a limit, with ORIGIN_MAX_REQUESTS_PER_SECOND and with ORIGIN_MAX_MBPS,
 * each on a fresh stage; then the gate's own cost per request when no limit is set. Prints figures;
 * no test asserts a time.
 *
 *   npm run bench:polite -- [--workers 3] [--classes 3] [--segments 30] [--kb 64] [--rps 40] [--mbps 2]
 */
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { generateLibrary } from '../lab/library.ts';
import { startOriginServer } from '../lab/origin-server.ts';
import { startLocalStack } from '../lab/stack.ts';
import { OriginGate } from '../src/domain/origin/gate.ts';
import { parsePerHost } from '../src/domain/origin/politeness.ts';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '3' },
    classes: { type: 'string', default: '3' },
    segments: { type: 'string', default: '30' },
    kb: { type: 'string', default: '64' },
    rps: { type: 'string', default: '40' },
    mbps: { type: 'string', default: '2' },
  },
});
const BIN = fileURLToPath(new URL('../bin/flants.js', import.meta.url));

function flants(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<void> {
  const workers = Number(values.workers);
  const library = generateLibrary({
    classes: Number(values.classes),
    variants: 2,
    segmentsPerRendition: Number(values.segments),
    segmentBytes: Number(values.kb) * 1024,
    seed: 'bench-polite',
  });
  const files = library.classes.reduce((n, c) => n + c.files, 0);
  const bytes = library.classes.reduce((n, c) => n + c.bytes, 0);
  const load = loadavg();
  const [stack, origin] = await Promise.all([startLocalStack(), startOriginServer(library, { measureWire: true })]);
  const mongo = await new MongoClient(stack.env.MONGODB_URI!).connect();
  await mongo.db().collection('classes').insertMany(library.catalogDocuments(origin.url));
  await mongo.close();
  const lines: string[] = [];
  try {
    const runs: Array<[string, Record<string, string>]> = [
      ['no limit', {}],
      [`ORIGIN_MAX_REQUESTS_PER_SECOND=${values.rps}`, { ORIGIN_MAX_REQUESTS_PER_SECOND: values.rps }],
      [`ORIGIN_MAX_MBPS=${values.mbps}`, { ORIGIN_MAX_MBPS: values.mbps }],
    ];
    lines.push(
      `Library: ${library.classes.length} classes, ${files} files, ${(bytes / 1e6).toFixed(1)} MB; \`flants run --workers ${workers}\` (built CLI), one fresh stage per run.`,
      '',
      '| setting | wall s | requests | mean req/s | peak req/s at the origin (any 1 s) | mean MB/s | peak MB/s written by the origin (any 1 s) | peak MB/s on the wire (any 1 s) | 429s |',
      '|---|---|---|---|---|---|---|---|---|',
    );
    let n = 0;
    for (const [label, extra] of runs) {
      origin.setFaults({});
      const before = origin.stats();
      const env = {
        ...stack.env,
        FLANTS_STAGE: `polite-${++n}`,
        ORIGIN_ALLOWED_HOSTS: new URL(origin.url).host,
        FLANTS_LOG_LEVEL: 'warn',
        ...extra,
      };
      if ((await flants(['setup', '--json'], env)) !== 0) throw new Error('setup failed');
      const t0 = performance.now();
      if ((await flants(['scan'], env)) !== 0) throw new Error('scan failed');
      const code = await flants(['run', '--until-idle', '--workers', String(workers), '--retry-delay', '1'], env);
      const wall = (performance.now() - t0) / 1000;
      if (code !== 0) throw new Error(`run failed (${code}) for ${label}`);
      const after = origin.stats();
      const s = {
        ...after,
        requests: after.requests - before.requests,
        bytesSent: after.bytesSent - before.bytesSent,
        throttled: (after.byStatus['429'] ?? 0) - (before.byStatus['429'] ?? 0),
      };
      lines.push(
        `| ${label} | ${wall.toFixed(1)} | ${s.requests} | ${(s.requests / wall).toFixed(1)} | ${s.peakRequestsPerSecond} | ${(s.bytesSent / 1e6 / wall).toFixed(2)} | ${(s.peakBytesPerSecond / 1e6).toFixed(2)} | ${(s.peakWireBytesPerSecond / 1e6).toFixed(2)} | ${s.throttled} |`,
      );
      process.stderr.write(`${lines.at(-1)}\n`);
    }
  } finally {
    await origin.close();
    await stack.stop();
  }
  // The gate's own cost when no limit is set: what every request pays for the mechanism.
  const gate = new OriginGate({
    requestsPerSecond: parsePerHost(undefined, 1),
    megabytesPerSecond: parsePerHost(undefined, 1),
    shares: 1,
  });
  const rounds = 200_000;
  for (let i = 0; i < 10_000; i++) {
    await gate.admit('cdn.example.com');
    gate.answered('cdn.example.com', { status: 200, latencyMs: 1 });
  }
  const c0 = process.cpuUsage();
  let paced = 0;
  for (let i = 0; i < rounds; i++) {
    await gate.admit('cdn.example.com');
    gate.answered('cdn.example.com', { status: 200, latencyMs: 1 });
    // The client asks for a pacer per body; without a byte limit there is none and the body is undici's own.
    if (gate.pacer('cdn.example.com')) paced++;
  }
  const c = process.cpuUsage(c0);
  const usPerRequest = (c.user + c.system) / rounds;
  lines.push(
    '',
    `Cost with no limit set: the gate's admit + answer + pacer lookup take ${usPerRequest.toFixed(2)} µs of CPU per request (bodies paced: ${paced}: no per-chunk work) (${rounds.toLocaleString('en')} in a loop), against ≈ 110 µs per origin request of undici (docs/BENCHMARKS.md, profile); no timer, no DynamoDB request per file. Each process adds one UpdateItem per host every ORIGIN_REPORT_SECONDS (30): at the ${'381'} files/s of one worker in the bench:rclone table that is 0.09 per 1,000 files.`,
    `Machine: ${availableParallelism()} cores; load average ${load.map((l) => l.toFixed(2)).join(' ')} at the start; Node ${process.version}.`,
    `Command: \`npm run bench:polite -- --workers ${workers} --classes ${values.classes} --segments ${values.segments} --kb ${values.kb} --rps ${values.rps} --mbps ${values.mbps}\`.`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
