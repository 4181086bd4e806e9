/**
 * How fresh a class that ends during a backfill is, with the fresh lane and without it (one queue):
 * the model in src/estimate/fresh-lane.ts over the seed's library (docs/SCALE.md), any input overridden.
 *
 *   node --import tsx scripts/fresh-model.ts
 *   node --import tsx scripts/fresh-model.ts --origin-mbps 523 --bulk-concurrency 37
 */
import { parseArgs } from 'node:util';
import { freshnessModel, SEED_LIBRARY, type FreshModelInputs } from '../src/estimate/fresh-lane.ts';
import { formatSeconds } from '../src/views/freshness.ts';

const flag = (k: string) => k.replace('MBps', 'Mbps').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const { values } = parseArgs({
  options: Object.fromEntries(Object.keys(SEED_LIBRARY).map((k) => [flag(k), { type: 'string' as const }])),
});
const inputs = { ...SEED_LIBRARY };
for (const k of Object.keys(SEED_LIBRARY) as Array<keyof FreshModelInputs>) {
  const raw = values[flag(k)];
  if (typeof raw !== 'string') continue;
  const n = raw === 'Infinity' ? Infinity : Number(raw);
  if (!(n > 0)) throw new Error(`--${flag(k)} must be a positive number, got "${raw}"`);
  inputs[k] = n;
}
const m = freshnessModel(inputs);
const out = (label: string, v: string) => process.stdout.write(`${label.padEnd(34)} ${v}\n`);
out(
  'inputs',
  JSON.stringify(inputs, (_k, v: unknown) => (v === Infinity ? 'unbounded' : v)),
);
out('class', `${Math.round(m.classFiles)} files, ${(m.classBytes / 1e6).toFixed(0)} MB`);
out('backfill wall time', formatSeconds(m.backfillSeconds));
out('per worker while both lanes run', `${m.workerMBpsShared.toFixed(1)} MB/s`);
out('fresh class copy', `${formatSeconds(m.classCopySeconds)} on ${m.classWorkers} workers`);
out('fresh lane utilisation', `${(m.freshUtilisation * 100).toFixed(2)} %`);
out('fresh lane queueing', formatSeconds(m.freshQueueSeconds));
out(
  'freshness, fresh lane',
  `mean ${formatSeconds(m.withLanes.meanSeconds)}, worst ${formatSeconds(m.withLanes.worstSeconds)}`,
);
out(
  'freshness, one queue (before)',
  `mean ${formatSeconds(m.withoutLanes.meanSeconds)}, worst ${formatSeconds(m.withoutLanes.worstSeconds)}`,
);
