import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEnvFile } from '../../lab/lab-env.ts';
import { BIN, flants } from '../helpers/cli.ts';
import { waitUntil } from '../helpers/wait.ts';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** README's walkthrough: each command line of the block between its markers, with its comment. */
function walkthrough(): { args: string[]; comment: string; line: string }[] {
  const text = readFileSync(README, 'utf8');
  const block = /<!-- walkthrough:start -->\s*```sh\n([\s\S]*?)```\s*<!-- walkthrough:end -->/.exec(text);
  if (!block) throw new Error('README.md has no walkthrough block between its markers');
  return block[1]!
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const [command, ...rest] = line.split('#');
      return { line, comment: rest.join('#').trim(), args: command!.trim().split(/\s+/) };
    });
}

/** A long-running `flants` process with its output so far. */
function start(args: string[], env: Record<string, string>, cwd: string): { child: ChildProcess; out: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

const dir = mkdtempSync(join(tmpdir(), 'flants-walkthrough-'));
let lab: ReturnType<typeof start> | undefined;

afterAll(async () => {
  if (lab && lab.child.exitCode === null) {
    lab.child.kill('SIGTERM');
    await exited(lab.child);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("README's local walkthrough", () => {
  it(
    'runs as written: lab up, source, scan, run, status, status --watch, report, dashboard, heal, redrive, lab down',
    {
      timeout: 900_000,
    },
    async () => {
      const steps = walkthrough();
      expect(steps.map((s) => s.args.slice(0, 3).join(' '))).toContain('npx flants dashboard');
      let env: Record<string, string> = {};
      const envFile = join(dir, '.flants/lab.env');
      for (const step of steps) {
        const [head, tool, ...args] = step.args;
        if (head === 'source') {
          env = parseEnvFile(readFileSync(join(dir, tool!), 'utf8'));
          continue;
        }
        expect([head, tool], step.line).toEqual(['npx', 'flants']);
        if (args[0] === 'lab' && args[1] === 'up') {
          // As written, with a smaller library so a loaded machine gets through it.
          lab = start([...args, '--classes', '3', '--segments', '3'], {}, dir);
          await waitUntil('"flants lab up" to write .flants/lab.env', async (note) => {
            note(lab!.out().slice(-400));
            if (lab!.child.exitCode !== null) throw new Error(`lab up exited: ${lab!.out()}`);
            return existsSync(envFile);
          });
          expect(lab.out()).toMatch(/FLAnts lab is up \(process \d+\)/);
          expect(lab.out()).toContain(`source ${envFile}`);
          continue;
        }
        if (args[0] === 'dashboard') {
          const dash = start(args, env, dir);
          let url = '';
          await waitUntil('the dashboard to say its address', async () => {
            url = /(http:\/\/127\.0\.0\.1:\d+\/) \(JSON/.exec(dash.out())?.[1] ?? '';
            if (dash.child.exitCode !== null) throw new Error(`dashboard exited: ${dash.out()}`);
            return url !== '';
          });
          const page = await fetch(url);
          expect(page.status).toBe(200);
          const json = (await (await fetch(`${url}status.json`)).json()) as { classes: { status: string }[] };
          expect(json.classes.map((c) => c.status)).toContain('FAILED');
          dash.child.kill('SIGINT');
          expect(await exited(dash.child)).toBe(0);
          continue;
        }
        // `--watch` runs until Ctrl-C: one frame shows it works.
        const run = args.includes('--watch') ? [...args, '--frames', '1'] : args;
        const r = await flants(run, env, 600_000, dir);
        expect(r.code, `${step.line}\n${r.stdout}\n${r.stderr}`).toBe(0);
        if (args[0] === 'status' && !args.includes('--watch')) {
          if (/FAILED/.test(step.comment)) expect(r.stdout).toMatch(/^\d+ classes: 2 COMPLETE, 1 FAILED$/m);
          if (/every class COMPLETE/.test(step.comment)) expect(r.stdout).toMatch(/^3 classes: 3 COMPLETE$/m);
        }
        if (args.includes('--watch')) expect(r.stdout).toMatch(/^queues scan 0 .* transfer-dlq 1(, oldest .*)?$/m);
        if (args[0] === 'report') expect(r.stdout).toMatch(/HTTP 404/);
        if (args[0] === 'lab' && args[1] === 'heal')
          await waitUntil('the lab to heal its origin', async () => lab!.out().includes('Origin healed'));
        if (args[0] === 'redrive')
          expect(r.stdout).toMatch(/^transfer: moved 1 message back to flants-demo-transfer$/m);
        if (args[0] === 'lab' && args[1] === 'down') {
          expect(r.stdout).toMatch(/^Lab stopped \(process \d+\)\.$/m);
          expect(await exited(lab!.child)).toBe(0);
          expect(existsSync(envFile)).toBe(false);
        }
      }
      expect(lab?.child.exitCode).toBe(0);
    },
  );
});

describe('flants lab down and heal without a lab', () => {
  it('say that no lab is up and how to start one', async () => {
    const missing = join(dir, 'no-lab.env');
    for (const verb of ['down', 'heal']) {
      const r = await flants(['lab', verb, '--lab-env', missing], {}, 120_000, dir);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(
        `flants: no lab is up: ${missing} does not exist or names no lab (start one with "flants lab up")`,
      );
    }
  });
});
