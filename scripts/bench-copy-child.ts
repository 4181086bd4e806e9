/**
 * The measured process of `npm run bench:limits`' copy (scripts/bench-limits.ts starts it): one file
 * through copyFile with the real dependencies (origin client, S3 ObjectStore, byte budget) built from
 * the environment the parent gives, then its figures as one JSON line on stdout. Its peak RSS is the
 * kernel's (VmHWM), so a short spike between samples still counts.
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { buildDeps } from '../src/wiring/deps.ts';
import { copyFile } from '../src/pipeline/copy-file.ts';

/** What the copy's process reports. */
export interface CopyFigures {
  bytes: number;
  seconds: number;
  parts: number;
  partSizeMib: number;
  /** VmHWM at the end, and before the copy started (modules loaded, dependencies built). */
  peakRssMib: number;
  rssBeforeMib: number;
  /** process.memoryUsage() at the largest RSS sampled every 20 ms: where the memory was. */
  sampledPeakMib: number;
  atPeak: { heapUsedMib: number; arrayBuffersMib: number };
}

/** This process's peak resident set (VmHWM) in MiB. */
function peakRssMib(): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const mib = (n: number): number => n / 1024 / 1024;
const cfg = loadConfig(process.env);
const deps = buildDeps(cfg, createLogger({}, 'silent'));
const rssBeforeMib = peakRssMib();
let sampled = process.memoryUsage();
const sampler = setInterval(() => {
  const now = process.memoryUsage();
  if (now.rss > sampled.rss) sampled = now;
}, 20);
const started = performance.now();
const copied = await copyFile(
  { src: process.env.BENCH_SRC!, key: 'bench/big.ts', kind: 'segment' },
  deps,
  // A generation makes the write conditional, as every pipeline copy is.
  { generation: 1 },
);
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
const figures: CopyFigures = {
  bytes: copied.bytes,
  seconds,
  parts: Math.ceil(copied.bytes / cfg.transfer.partSizeBytes),
  partSizeMib: mib(cfg.transfer.partSizeBytes),
  peakRssMib: peakRssMib(),
  rssBeforeMib,
  sampledPeakMib: mib(sampled.rss),
  atPeak: { heapUsedMib: mib(sampled.heapUsed), arrayBuffersMib: mib(sampled.arrayBuffers) },
};
await deps.close();
process.stdout.write(`${JSON.stringify(figures)}\n`);
