import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig, parseAllowedHosts } from '../config.ts';
import { renderEstimate } from '../estimate/render.ts';
import { runEstimate } from '../estimate/run.ts';
import { ORIGIN_PLACES, type OriginPlace } from '../estimate/prices.ts';
import type { Catalog } from '../domain/ports/catalog.ts';
import { openConfiguredCatalog } from '../wiring/catalog.ts';

interface EstimateCliOptions {
  sample: number;
  classes?: number;
  seed: string;
  confidence: number;
  concurrency: number;
  budget: number;
  allowHost?: string[];
  prices?: string;
  transferMaxConcurrency?: number;
  memory?: number;
  accountConcurrency?: number;
  cpuMsPerFile?: number;
  workerMbps?: number;
  fileLatencyMs?: number;
  originRps?: number;
  originMbps?: number;
  originIn: OriginPlace;
  json?: boolean;
}

function wholeNumber(name: string, min = 1) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be a whole number of at least ${min}`);
    return n;
  };
}

function positive(name: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a positive number`);
    return n;
  };
}

/** Registers `flants estimate`: how long, how much and what binds, before copying anything. */
export function registerEstimate(program: Command): void {
  program
    .command('estimate [masterUrls...]')
    .description(
      'Estimate files, bytes, requests, cost and wall time of copying the library, from a crawled sample (no file is copied)',
    )
    .option(
      '--sample <n>',
      'classes to draw from the catalog (validated like a scan) when no URL is given',
      wholeNumber('--sample', 2),
      20,
    )
    .option(
      '--classes <n>',
      "valid classes in the whole library (default: the catalog's count, or the URLs given)",
      wholeNumber('--classes'),
    )
    .option('--seed <seed>', 'seed of the random draws (the same seed draws the same sample)', '1')
    .option(
      '--confidence <p>',
      'confidence of the ranges, in (0, 1)',
      (raw) => {
        const p = Number(raw);
        if (!(p > 0 && p < 1)) throw new InvalidArgumentError('--confidence must be between 0 and 1, e.g. 0.95');
        return p;
      },
      0.95,
    )
    .option('--concurrency <n>', 'requests to the origin at once', wholeNumber('--concurrency'), 4)
    .option('--budget <n>', 'most requests to the origin (playlists and size probes)', wholeNumber('--budget', 2), 5000)
    .option('--allow-host <host...>', 'also allow these origin hosts (added to ORIGIN_ALLOWED_HOSTS)')
    .option('--prices <file>', 'price table (JSON, the shape of src/estimate/prices.us-east-1.json)')
    .option(
      '--transfer-max-concurrency <n>',
      "transfer function's maximum concurrency (default: serverless.yml, for FLANTS_STAGE)",
      wholeNumber('--transfer-max-concurrency', 2),
    )
    .option('--memory <mb>', 'transfer function memory in MB (default: serverless.yml)', wholeNumber('--memory', 128))
    .option(
      '--account-concurrency <n>',
      'Lambda concurrency available in the account and region',
      wholeNumber('--account-concurrency', 2),
    )
    .option(
      '--cpu-ms-per-file <ms>',
      'CPU milliseconds per file copied (default: the bench figure)',
      positive('--cpu-ms-per-file'),
    )
    .option(
      '--worker-mbps <MB/s>',
      'MB/s one transfer invocation moves (default: the bench figure)',
      positive('--worker-mbps'),
    )
    .option(
      '--file-latency-ms <ms>',
      'round trips per file in the cloud (origin first byte + S3 PUT)',
      positive('--file-latency-ms'),
    )
    .option('--origin-rps <n>', "the origin's request-rate limit", positive('--origin-rps'))
    .option('--origin-mbps <MB/s>', "the origin's bandwidth limit", positive('--origin-mbps'))
    .option(
      '--origin-in <where>',
      `where the origin is, for its data transfer: ${ORIGIN_PLACES.join(', ')}`,
      (raw) => {
        if (!ORIGIN_PLACES.includes(raw as OriginPlace))
          throw new InvalidArgumentError(`--origin-in must be one of ${ORIGIN_PLACES.join(', ')}`);
        return raw as OriginPlace;
      },
      'outside' as OriginPlace,
    )
    .option('--json', 'print one JSON object')
    .action(async (masterUrls: string[], o: EstimateCliOptions) => {
      const cfg = loadConfig();
      const hasCatalog = Boolean(cfg.mongo.uri || cfg.mongo.uriSsmParam);
      // The command opens the catalog, so the command closes it.
      let opened: Catalog | undefined;
      try {
        const report = await runEstimate({
          cfg,
          masterUrls,
          sample: o.sample,
          classes: o.classes,
          seed: o.seed,
          confidence: o.confidence,
          concurrency: o.concurrency,
          budget: o.budget,
          allowHosts: parseAllowedHosts((o.allowHost ?? []).join(','), '--allow-host'),
          pricesFile: o.prices,
          transferMaxConcurrency: o.transferMaxConcurrency,
          memoryMb: o.memory,
          accountConcurrency: o.accountConcurrency,
          cpuMsPerFile: o.cpuMsPerFile,
          workerMBps: o.workerMbps,
          fileLatencyMs: o.fileLatencyMs,
          originRps: o.originRps,
          originMBps: o.originMbps,
          originPlace: o.originIn,
          catalog: hasCatalog ? async () => (opened ??= await openConfiguredCatalog(cfg)) : undefined,
          // Progress goes to stderr, and only for a person: stdout stays the table or the JSON.
          onProgress: process.stderr.isTTY && !o.json ? (line) => process.stderr.write(`${line}\n`) : undefined,
        });
        process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : renderEstimate(report));
      } finally {
        await opened?.close();
      }
    });
}
