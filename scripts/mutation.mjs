#!/usr/bin/env node
// Runs mutation testing (Stryker, stryker.config.js) on one, several or all targets, one after the
// other, and prints each target's score and run time. Not part of `npm test`: a target takes minutes.
//
//   npm run test:mutation                          all targets
//   npm run test:mutation -- hosts addresses       these targets
//   npm run test:mutation -- hosts --concurrency 1 anything starting with "--" goes to Stryker
//
// Exits non-zero when a target scores below the break threshold (90 %) or Stryker fails.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TARGETS } from './mutation-targets.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STRYKER = join(ROOT, 'node_modules/@stryker-mutator/core/bin/stryker.js');

const args = process.argv.slice(2);
const passThrough = [];
const names = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a.startsWith('--')) {
    passThrough.push(a);
    // A flag's value ("--concurrency 1") travels with it.
    if (!a.includes('=') && args[i + 1] !== undefined && !args[i + 1].startsWith('--') && !(args[i + 1] in TARGETS))
      passThrough.push(args[++i]);
  } else names.push(a);
}
const unknown = names.filter((n) => !(n in TARGETS));
if (unknown.length > 0) {
  console.error(`unknown mutation target ${unknown.join(', ')}: pick from ${Object.keys(TARGETS).join(', ')}`);
  process.exit(2);
}
const chosen = names.length > 0 ? names : Object.keys(TARGETS);

/** Killed, survived, ... and the score as Stryker computes it, from the target's JSON report. */
function summary(name) {
  const report = JSON.parse(readFileSync(join(ROOT, `reports/mutation/${name}.json`), 'utf8'));
  const n = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, ignored: 0, errors: 0 };
  for (const file of Object.values(report.files)) {
    for (const m of file.mutants) {
      if (m.status === 'Killed') n.killed++;
      else if (m.status === 'Timeout') n.timeout++;
      else if (m.status === 'Survived') n.survived++;
      else if (m.status === 'NoCoverage') n.noCoverage++;
      else if (m.status === 'Ignored') n.ignored++;
      else n.errors++; // CompileError, RuntimeError: the mutant never ran, so it counts for nothing
    }
  }
  const detected = n.killed + n.timeout;
  const valid = detected + n.survived + n.noCoverage;
  return { ...n, score: valid === 0 ? 100 : (100 * detected) / valid };
}

/**
 * CPU seconds used by this process's finished children (Stryker and its workers), from /proc on
 * Linux: on a shared machine the wall time says more about the neighbours than about the run.
 */
function childCpuSeconds() {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    // cutime and cstime, fields 16 and 17 of the whole line, in clock ticks (100 a second on Linux).
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return undefined;
  }
}

/** The files a target mutates, without the line ranges some entries carry (`src/x.ts:10-20`). */
function mutatedFiles(target) {
  return [...new Set(target.mutate.map((m) => m.replace(/:\d[\d:-]*$/, '')))];
}

const rows = [];
let failed = false;
for (const name of chosen) {
  const target = TARGETS[name];
  // The checker compiles only the mutated files and what they import, not the whole project.
  const tsconfig = join(ROOT, `tsconfig.mutation-${name}.json`);
  writeFileSync(
    tsconfig,
    `${JSON.stringify({ extends: './tsconfig.json', include: [], files: mutatedFiles(target) }, null, 2)}\n`,
  );
  console.log(`\n=== mutation target ${name}: ${target.mutate.join(', ')}`);
  // A report left by an earlier run must not pass for this one's.
  rmSync(join(ROOT, `reports/mutation/${name}.json`), { force: true });
  const started = Date.now();
  const cpuBefore = childCpuSeconds();
  const run = spawnSync(process.execPath, [STRYKER, 'run', 'stryker.config.js', ...passThrough], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, FLANTS_MUTATION_TARGET: name },
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  const cpuAfter = childCpuSeconds();
  const cpu = cpuBefore === undefined || cpuAfter === undefined ? undefined : Math.round(cpuAfter - cpuBefore);
  rmSync(tsconfig, { force: true });
  let s;
  try {
    s = summary(name);
  } catch {
    s = undefined;
  }
  if (run.status !== 0) failed = true;
  rows.push({ name, seconds, cpu, status: run.status, s });
}

console.log('\n| target | killed | timeout | survived | no coverage | ignored | score | time | CPU | result |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
const minutes = (t) => (t === undefined ? '-' : `${Math.floor(t / 60)} min ${t % 60} s`);
for (const { name, seconds, cpu, status, s } of rows) {
  const time = `${minutes(seconds)} | ${minutes(cpu)}`;
  const result = status === 0 ? 'pass' : 'FAIL';
  console.log(
    s
      ? `| ${name} | ${s.killed} | ${s.timeout} | ${s.survived} | ${s.noCoverage} | ${s.ignored} | ${s.score.toFixed(1)} % | ${time} | ${result} |`
      : `| ${name} | - | - | - | - | - | - | ${time} | ${result} (no report) |`,
  );
}
process.exit(failed ? 1 : 0);
