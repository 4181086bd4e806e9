import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../lab/free-port.ts';

/**
 * Whether moto_server runs on this machine. When it does not, says so once, naming the suite that
 * skips and how to install it: the emulator suites are optional, never silently empty.
 */
export function motoInstalled(suite: string): boolean {
  const present = spawnSync('moto_server', ['--help'], { encoding: 'utf8', timeout: 30_000 }).status === 0;
  if (!present) console.warn(`moto_server is not installed (pip install "moto[server]"): skipping ${suite}`);
  return present;
}

/** Polls until the port accepts connections (a condition, not a fixed sleep); fails if moto exits or takes over 30 s. */
async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode})`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (up) return;
    await sleep(100);
  }
  throw new Error('moto_server did not start');
}

export interface MotoServer {
  endpoint: string;
  child: ChildProcess;
}

/**
 * One moto_server on a free local port, listening when this resolves: what both emulator suites start
 * with. `logFile` keeps its request log (one line per request, with the status) in the temp folder.
 */
export async function startMotoServer(
  opts: { env?: NodeJS.ProcessEnv; logFile?: (port: number) => string } = {},
): Promise<MotoServer> {
  const port = await freePort();
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    env: opts.env ?? process.env,
    stdio: opts.logFile ? ['ignore', 'ignore', openSync(join(tmpdir(), opts.logFile(port)), 'w')] : 'ignore',
  });
  try {
    await waitForPort(port, child);
  } catch (err) {
    child.kill();
    throw err;
  }
  return { endpoint: `http://127.0.0.1:${port}`, child };
}
