import './quiet-sdk.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The servers of the embedded local stack. */
export type LocalService = 'sqs' | 's3' | 'dynamodb' | 'mongodb';
export const ALL_SERVICES: readonly LocalService[] = ['sqs', 's3', 'dynamodb', 'mongodb'];

export interface LocalStack {
  readonly endpoints: Partial<Record<LocalService, string>>;
  /** Environment that points the SDK and the config module at these servers. */
  readonly env: Record<string, string>;
  /** Process id of each server (benchmarks read a server's CPU time from /proc). */
  readonly pids: Partial<Record<LocalService, number>>;
  stop(): Promise<void>;
}

const SERVE = fileURLToPath(new URL('./servers/serve.ts', import.meta.url));
// tsx's loader by its full path: a bare `--import tsx` is resolved from the working directory, so the demo
// and `flants lab up` started outside this repository could not start their servers.
const TSX = import.meta.resolve('tsx');
// Generous: on a loaded machine a server's start (Node, tsx, its own start-up) can take tens of seconds.
const START_TIMEOUT_MS = 120_000;

interface Running {
  url: string;
  child: ChildProcess;
}

async function startOne(service: LocalService): Promise<Running> {
  // Each server is its own process: S3 traffic and SQS long polls do not share one event loop,
  // and a server crash cannot take the workers down with it.
  // FLANTS_LAB_CPU_PROF=<dir>: a CPU profile of each server, to see what the benchmark's servers cost.
  const prof = process.env.FLANTS_LAB_CPU_PROF;
  const profile = prof ? ['--cpu-prof', `--cpu-prof-dir=${join(prof, service)}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', TSX, SERVE, service], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const lines = createInterface({ input: child.stdout });
  return new Promise<Running>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`local ${service} server did not start within ${START_TIMEOUT_MS / 1000}s: ${stderr.trim()}`));
    }, START_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`local ${service} server exited with code ${code}: ${stderr.trim()}`));
    });
    lines.on('line', (line) => {
      if (!line.startsWith('READY ')) return;
      clearTimeout(timer);
      const { url } = JSON.parse(line.slice(6)) as { url: string };
      resolve({ url, child });
    });
  });
}

async function stopOne(r: Running): Promise<void> {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      r.child.kill('SIGKILL');
    }, 5_000);
    r.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    r.child.stdin?.end();
    r.child.kill('SIGTERM');
  });
}

/** Starts the requested local servers, each a child process on a free loopback port. */
export async function startLocalStack(services: readonly LocalService[] = ALL_SERVICES): Promise<LocalStack> {
  const started: Partial<Record<LocalService, Running>> = {};
  const all: Running[] = [];
  const killAll = () => {
    for (const r of all) r.child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  try {
    const results = await Promise.allSettled(services.map(async (s) => [s, await startOne(s)] as const));
    for (const res of results) {
      if (res.status === 'fulfilled') {
        started[res.value[0]] = res.value[1];
        all.push(res.value[1]);
      }
    }
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (err) {
    await Promise.all(all.map(stopOne));
    process.removeListener('exit', killAll);
    throw err;
  }
  const endpoints: Partial<Record<LocalService, string>> = {};
  const pids: Partial<Record<LocalService, number>> = {};
  for (const s of services) {
    endpoints[s] = started[s]!.url;
    if (started[s]!.child.pid !== undefined) pids[s] = started[s]!.child.pid;
  }
  return {
    endpoints,
    pids,
    env: localEnv(endpoints),
    async stop() {
      await Promise.all(all.map(stopOne));
      process.removeListener('exit', killAll);
    },
  };
}

/** The environment variables that point FLAnts at local endpoints. */
export function localEnv(endpoints: Partial<Record<LocalService, string>>): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    // The local S3 refuses request bodies over 11 MiB, so parts must stay below that.
    TRANSFER_PART_SIZE_MB: '8',
  };
  if (endpoints.sqs) env.AWS_ENDPOINT_URL_SQS = endpoints.sqs;
  if (endpoints.s3) env.AWS_ENDPOINT_URL_S3 = endpoints.s3;
  if (endpoints.dynamodb) env.AWS_ENDPOINT_URL_DYNAMODB = endpoints.dynamodb;
  if (endpoints.mongodb) env.MONGODB_URI = `${endpoints.mongodb}/flants`;
  return env;
}
