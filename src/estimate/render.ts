/** The estimate as a person reads it: one table, ranges in parentheses. */
import { describeLibrarySource } from './arguments.ts';
import type { EstimateReport } from './model.ts';
import type { Range } from './stats.ts';

/** 1234567 → "1,234,567"; fractions keep a few digits. */
export function count(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** Bytes in decimal units, as the demo and the bench print them. */
export function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? Math.round(v) : v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

/** Seconds as "45 s", "12 min 5 s", "2 h 20 min". */
export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${seconds < 1 ? seconds.toFixed(2) : seconds < 10 ? seconds.toFixed(1) : s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return m === 60 ? `${h + 1} h` : `${h} h${m ? ` ${m} min` : ''}`;
}

/** Dollars: cents for amounts of a dollar or more, more digits below. */
export function usd(n: number): string {
  if (n >= 1) return `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  if (n === 0) return '$0';
  return `$${n.toPrecision(2)}`;
}

function range(r: Range, f: (n: number) => string): string {
  const [low, mid, high] = [f(r.low), f(r.mid), f(r.high)];
  return low === high ? mid : `${mid}  (${low} – ${high})`;
}

/** Renders the report as the table `flants estimate` prints. */
export function renderEstimate(r: EstimateReport): string {
  const L = r.library;
  const s = r.settings;
  const u = r.usage;
  const pct = Math.round(L.confidence * 100);
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(13)}${value}`);
  lines.push(
    `FLAnts estimate: ${count(L.classes)} classes, from a sample of ${r.sample.classes} (${pct}% confidence ranges)`,
  );
  if (L.classesFrom) lines.push(`  library size: ${describeLibrarySource(L.classesFrom)}`);
  lines.push('');
  row(
    'sample',
    `${r.sample.classes} classes, ${count(r.sample.files)} files, ${bytes(r.sample.bytes)}; ${count(r.sample.originRequests)} requests to the origin in ${duration(r.sample.seconds)}`,
  );
  const src = r.sample.sizeSources;
  row(
    '',
    `sizes from playlists ${count(src.playlist)}, byte ranges ${count(src.byterange)}, probes ${count(src.probe)}, estimated ${count(src.estimated)}${r.sample.missingFiles ? `; ${r.sample.missingFiles} files missing at the origin` : ''}`,
  );
  row(
    'files',
    range(L.files, (n) => count(n)),
  );
  row('bytes', range(L.bytes, bytes));
  row(
    'per class',
    `${count(L.perClass.files, 1)} files, ${bytes(L.perClass.bytes)}, ${count(L.perClass.playlists, 1)} playlists; crawled in ${duration(L.perClass.crawlSeconds)} from here`,
  );
  const fs = L.fileSizes;
  row(
    'file sizes',
    `mean ${bytes(fs.mean)}, median ${bytes(fs.p50)}, p90 ${bytes(fs.p90)}, p99 ${bytes(fs.p99)}, largest seen ${bytes(fs.max)}`,
  );
  const KiB = (b: number) => (b >= 1024 * 1024 ? `${b / 1024 / 1024} MiB` : `${b / 1024} KiB`);
  let lower = 0;
  const buckets = fs.buckets
    .map((b) => {
      const label =
        b.below === null ? `≥ ${KiB(lower)}` : lower === 0 ? `< ${KiB(b.below)}` : `${KiB(lower)}–${KiB(b.below)}`;
      lower = b.below ?? lower;
      return b.share > 0 ? `${label} ${Math.round(b.share * 1000) / 10}%` : '';
    })
    .filter(Boolean);
  row('', buckets.join(', '));
  lines.push('');
  lines.push('Requests for the whole copy');
  row(
    'S3',
    `${count(u.s3.putRequests)} PUT-class requests (${count(u.s3.multipartUploads)} files over the ${s.partSizeBytes / 1024 / 1024} MiB part size go multipart)`,
  );
  row(
    'SQS',
    `${count(u.sqs.requests)} billed requests (transfer ${count(u.sqs.byQueue.transfer)}, crawl ${count(u.sqs.byQueue.crawl)}, scan ${count(u.sqs.byQueue.scan)}, idle polls ${count(u.sqs.byQueue.idlePolls)})`,
  );
  row(
    'DynamoDB',
    `${count(u.dynamodb.requests)} requests: ${count(u.dynamodb.writeUnits)} write units, ${count(u.dynamodb.readUnits)} read units`,
  );
  const f = u.lambda.byFunction;
  row(
    'Lambda',
    `${count(u.lambda.invocations)} invocations, ${count(u.lambda.gbSeconds)} GB-s (transfer ${count(f.transfer.invocations)} × ${f.transfer.memoryMb} MB, crawler ${count(f.crawler.invocations)}, scanner ${count(f.scanner.invocations)})`,
  );
  row(
    'origin',
    `${count(u.origin.requests)} GETs, ${bytes(u.origin.bytes)} (${u.origin.place === 'outside' ? 'outside AWS: no AWS charge' : u.origin.place})`,
  );
  lines.push('');
  const c = r.costUsd;
  lines.push(`Cost at ${r.prices.region} prices (${r.prices.file}, transcribed ${r.prices.transcribed})`);
  row('S3', usd(c.s3));
  row('SQS', usd(c.sqs));
  row('DynamoDB', usd(c.dynamodb));
  row('Lambda', usd(c.lambda));
  if (u.origin.place !== 'outside') row('origin', usd(c.origin));
  row('total', range({ low: c.range.low, mid: c.total, high: c.range.high }, usd));
  row('then', `${usd(c.storagePerMonth)} a month to keep it in S3 Standard`);
  const v = r.verify;
  row(
    'verify',
    `${usd(v.usd)} each time (${count(v.requests.head)} HEADs, ${count(v.requests.list)} LISTs); --deep ${usd(v.usdDeep)} in-region, ${usd(v.usdDeepOutside)} from outside AWS (${count(v.requests.getDeep)} GETs)`,
  );
  lines.push('');
  const w = r.wall;
  lines.push(
    `Wall time at transferMaxConcurrency ${s.transferMaxConcurrency} (${s.transferBatchSize} chunks of ${s.chunkFiles} files per invocation, ${s.transferMemoryMb} MB)`,
  );
  row('copy', range(r.wallSeconds, duration));
  row(
    'bound by',
    `${w.limit}; each worker by ${w.workerBound} (${count(w.transferWorkerSeconds)} worker-seconds at ${s.workerMBps} MB/s, ${s.cpuMsPerFile} ms CPU and ${s.fileLatencyMs} ms of round trips per file)`,
  );
  row(
    'concurrency',
    `${count(w.concurrency)} at most (Lambda's ramp reaches the ceiling of ${count(w.ceiling)} after ${duration(w.rampSeconds)}); scan and crawl hand out the last class after ${duration(w.feedSeconds)}`,
  );
  if (r.warnings.length) {
    lines.push('');
    for (const warning of r.warnings) lines.push(`warning: ${warning}`);
  }
  return `${lines.join('\n')}\n`;
}
