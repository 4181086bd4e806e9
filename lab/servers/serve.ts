/**
 * Child-process entry for one local server: `serve.ts <sqs|s3|dynamodb|mongodb>`.
 * Prints one line `READY {"url": ...}` when the server accepts connections, and stops when its
 * parent goes away (stdin closes) so no server outlives the run that started it.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../free-port.ts';

const require = createRequire(import.meta.url);
const kind = process.argv[2];
let stop: () => Promise<void> = async () => {};

function ready(url: string): void {
  process.stdout.write(`READY ${JSON.stringify({ url })}\n`);
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

async function startDynamo(): Promise<void> {
  const bin = join(dirname(require.resolve('@dynoxide/linux-x64/package.json')), 'dynoxide');
  // The binary cannot report an OS-assigned port, so pick one and retry if another process wins it.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn(bin, ['serve', '--host', '127.0.0.1', '--port', String(port)], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    for (let i = 0; i < 100 && !exited; i++) {
      if (await canConnect(port)) {
        stop = () =>
          new Promise<void>((resolve) => {
            // Wait for the binary to exit so it is reaped here rather than left a zombie.
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          });
        child.once('exit', (code) => {
          if (!stopping) {
            process.stderr.write(`dynoxide exited unexpectedly (${code})\n`);
            process.exit(1);
          }
        });
        ready(`http://127.0.0.1:${port}`);
        return;
      }
      await sleep(50);
    }
    child.kill('SIGKILL');
  }
  throw new Error('dynoxide did not start');
}

async function startFauxqs(): Promise<void> {
  // Loopback only, with S3's conditional writes (see fauxqs.ts).
  const { startLocalFauxqs } = await import('./fauxqs.ts');
  const server = await startLocalFauxqs();
  stop = () => server.stop();
  ready(server.url);
}

async function startMongo(): Promise<void> {
  // CongoDB (inside @push.rocks/smartmongo 2.2.0) speaks the MongoDB wire protocol, in memory.
  const { CongoServer } = (await import('@push.rocks/smartmongo/dist_ts/congodb/index.js')) as {
    CongoServer: new (o: { port: number; host: string }) => { start(): Promise<void>; stop(): Promise<void> };
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const server = new CongoServer({ port, host: '127.0.0.1' });
    try {
      await server.start();
    } catch {
      continue;
    }
    stop = () => server.stop();
    ready(`mongodb://127.0.0.1:${port}`);
    return;
  }
  throw new Error('CongoDB did not start');
}

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  try {
    await stop();
  } finally {
    process.exit(0);
  }
}

process.stdin.on('end', () => void shutdown());
process.stdin.on('close', () => void shutdown());
process.stdin.resume();
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

const starters: Record<string, () => Promise<void>> = {
  sqs: startFauxqs,
  s3: startFauxqs,
  dynamodb: startDynamo,
  mongodb: startMongo,
};
const start = kind ? starters[kind] : undefined;
if (!start) {
  process.stderr.write(`usage: serve.ts <${Object.keys(starters).join('|')}>\n`);
  process.exit(2);
}
start().catch((err: unknown) => {
  process.stderr.write(`failed to start ${kind}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
