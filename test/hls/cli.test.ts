// `flants plan` as outside checks run it: a child process, stdout lines, exit code, one stderr line.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerPlan } from '../../src/cli/plan.ts';
import { planOverHttp } from './helpers.ts';
import { startDirectoryOrigin, type DirectoryOrigin } from '../helpers/directory-origin.ts';

const REPO = join(import.meta.dirname, '../..');
const DIR = join(REPO, 'test/fixtures/hls');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function flants(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(ORIGIN_|DEST_|HLS_|FLANTS_DEBUG|AWS_)/.test(k)),
  ) as Record<string, string>;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO, 'bin/flants.js'), 'plan', ...args],
      { cwd: REPO, env: { ...clean, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let a: DirectoryOrigin;
let b: DirectoryOrigin;

beforeAll(async () => {
  b = await startDirectoryOrigin({ root: DIR });
  a = await startDirectoryOrigin({ root: DIR, rewrite: (s) => s.replaceAll('@@ORIGIN_B@@', b.base) });
});

afterAll(async () => {
  await a?.close();
  await b?.close();
});

describe('flants plan (child process)', () => {
  it("prints the crawler's plan as JSON lines; refuses a bad playlist with one stderr line and a non-zero exit", async () => {
    const [ok, html] = await Promise.all([
      flants([`${a.base}/llhls/master.m3u8`, '--json']),
      flants([`${a.base}/bad/html.m3u8`, '--json']),
    ]);

    // The same plan as the code the crawler calls; stdout holds nothing else.
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    const lines = ok.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const l of lines) expect(Object.keys(l)).toEqual(['src', 'key', 'kind']);
    // The JSON lines are the command contract's three fields; the crawler's plan also carries playlist digests.
    const planned = await planOverHttp(`${a.base}/llhls/master.m3u8`, { allowedHosts: [a.host] });
    expect(lines).toEqual(planned.map(({ src, key, kind }) => ({ src, key, kind })));

    expect(html.code).not.toBe(0);
    expect(html.stdout).toBe('');
    expect(html.stderr).toMatch(/^flants: [^\n]*bad\/html\.m3u8 is not an HLS playlist[^\n]*\n$/);
  });
});

/** Runs `flants plan` in this process (same registerPlan), capturing stdout. */
async function planInProcess(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; error: Error | undefined }> {
  for (const k of Object.keys(process.env)) if (/^(ORIGIN_|DEST_PREFIX|HLS_)/.test(k)) vi.stubEnv(k, '');
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  const program = new Command('flants').exitOverride();
  registerPlan(program);
  let stdout = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'flants', 'plan', ...args]);
    return { stdout, error: undefined };
  } catch (err) {
    return { stdout, error: err as Error };
  } finally {
    spy.mockRestore();
    vi.unstubAllEnvs();
  }
}

describe('flants plan (in process)', () => {
  it("allows just the target's host when ORIGIN_ALLOWED_HOSTS is unset, and --allow-host adds more", async () => {
    const refused = await planInProcess([`${a.base}/steering/master.m3u8`, '--json']);
    expect(refused.stdout).toBe('');
    expect(refused.error?.message).toContain(`host "${b.host}" is not in ORIGIN_ALLOWED_HOSTS`);

    const allowed = await planInProcess([`${a.base}/steering/master.m3u8`, '--allow-host', b.host]);
    expect(allowed.error).toBeUndefined();
    expect(allowed.stdout).toContain(`  ${b.host}/steering/b/media.m3u8  <-`);
    expect(allowed.stdout).toContain(`  ${a.host}/steering/master.m3u8  <-`);
    expect(allowed.stdout.trimEnd().split('\n').at(-1)).toBe(
      '6 files: 3 playlist, 2 segment, 1 data; keys without the class id (--class <id> prints them as copied)',
    );
  });

  it("uses ORIGIN_ALLOWED_HOSTS when set, instead of the target's host", async () => {
    const r = await planInProcess([`${a.base}/llhls/master.m3u8`, '--json'], {
      ORIGIN_ALLOWED_HOSTS: 'cdn.example.com',
    });
    expect(r.error?.message).toContain(`host "${a.host}" is not in ORIGIN_ALLOWED_HOSTS`);
  });

  it('prints the keys the crawler writes for a class with --class: DEST_PREFIX/<class>/<host>/<path>', async () => {
    const r = await planInProcess([`${a.base}/llhls/master.m3u8`, '--json', '--class', '666b31bc455009b96af2d00d'], {
      DEST_PREFIX: 'media',
    });
    expect(r.error).toBeUndefined();
    const files = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { key: string });
    expect(files.length).toBeGreaterThan(3);
    expect(files.every((f) => f.key.startsWith(`media/666b31bc455009b96af2d00d/${a.host}/llhls/`))).toBe(true);
  });

  it('reads the HLS_* caps and DEST_PREFIX from the environment', async () => {
    const capped = await planInProcess([`${a.base}/multikey/media.m3u8`], { HLS_MAX_FILES: '3' });
    expect(capped.error?.message).toMatch(/more than 3 files \(HLS_MAX_FILES\)/);
    const bad = await planInProcess([`${a.base}/multikey/media.m3u8`], { HLS_MAX_DEPTH: 'deep' });
    expect(bad.error?.message).toMatch(/HLS_MAX_DEPTH/);
  });

  it('plans a local file: file: sources, keys relative to its directory, under DEST_PREFIX', async () => {
    const r = await planInProcess([join(DIR, 'interstitial/master.m3u8'), '--json'], { DEST_PREFIX: '/lib/' });
    expect(r.error).toBeUndefined();
    const files = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { src: string; key: string; kind: string });
    expect(files.map((f) => `${f.kind} ${f.key}`)).toEqual([
      'segment lib/ads/ad1/ad-1.ts',
      'segment lib/ads/ad1/ad-2.ts',
      'playlist lib/ads/ad1/ad.m3u8',
      'playlist lib/ads/ad1/master.m3u8',
      'data lib/ads/pod.json',
      'playlist lib/main.m3u8',
      'segment lib/main1.ts',
      'segment lib/main2.ts',
      'playlist lib/master.m3u8',
    ]);
    expect(files.every((f) => f.src.startsWith('file:///'))).toBe(true);
  });

  it('refuses a local file outside ORIGIN_ALLOWED_HOSTS references and unreadable paths', async () => {
    const foreign = await planInProcess([join(DIR, 'bad/foreign.m3u8')]);
    expect(foreign.error?.message).toContain('host "evil.example" is not in ORIGIN_ALLOWED_HOSTS');
    const missing = await planInProcess([join(DIR, 'no/such/master.m3u8')]);
    expect(missing.error?.message).toMatch(/does not exist/);
  });
});
