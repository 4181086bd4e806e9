/**
 * `flants estimate`, end to end: choose the sample (master URLs, or classes drawn from the catalog
 * and validated like a scan), measure it, extrapolate to the library, price it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Config } from '../config.ts';
import { librarySizeSource, sampleSizeProblem } from './arguments.ts';
import { ConfigError } from '../errors.ts';
import { loadServiceDefinition, SERVERLESS_YML } from '../ops/service-definition.ts';
import { createOrigin } from '../adapters/origin/client.ts';
import { isFetchableScheme, isHostAllowed } from '../domain/origin/hosts.ts';
import type { Catalog } from '../domain/ports/catalog.ts';
import { sampleCatalog } from './catalog-sample.ts';
import { crawlSample, RequestBudget, type SampleTarget } from './crawl.ts';
import { ASSUMED, BENCH } from './figures.ts';
import { extrapolate, type EstimateReport, type EstimateSettings } from './model.ts';
import { DEFAULT_PRICES_FILE, loadPrices, type OriginPlace } from './prices.ts';
import { seededRandom } from './stats.ts';

/** Everything `flants estimate` can be told; unset figures come from the config, serverless.yml and the bench. */
export interface EstimateOptions {
  cfg: Config;
  /** Master playlist URLs to measure; empty to draw `sample` classes from the catalog. */
  masterUrls: readonly string[];
  sample: number;
  /** Valid classes in the whole library; default: the catalog's count (or the URLs given, without a catalog). */
  classes?: number | undefined;
  seed: string;
  confidence: number;
  concurrency: number;
  budget: number;
  /** Hosts allowed besides ORIGIN_ALLOWED_HOSTS. */
  allowHosts: readonly string[];
  pricesFile?: string | undefined;
  transferMaxConcurrency?: number | undefined;
  memoryMb?: number | undefined;
  accountConcurrency?: number | undefined;
  cpuMsPerFile?: number | undefined;
  workerMBps?: number | undefined;
  fileLatencyMs?: number | undefined;
  originRps?: number | undefined;
  originMBps?: number | undefined;
  originPlace: OriginPlace;
  /** The catalog, when one is configured (MONGODB_URI or its SSM parameter). */
  catalog?: (() => Promise<Catalog>) | undefined;
  onProgress?: ((line: string) => void) | undefined;
}

/** `transferMemorySize` of serverless.yml for the stage (params.<stage>, else params.default). */
function transferMemoryOf(stage: string): number {
  const doc = parse(readFileSync(SERVERLESS_YML, 'utf8')) as {
    params?: Record<string, Record<string, unknown> | undefined>;
  };
  const raw = doc.params?.[stage]?.transferMemorySize ?? doc.params?.default?.transferMemorySize;
  const n = Number(raw);
  return Number.isFinite(n) && n > 0 ? n : ASSUMED.transferMemoryMb;
}

/** The deployment the estimate prices: the stage's serverless.yml, the config, the bench figures, the flags. */
export function estimateSettings(o: EstimateOptions): EstimateSettings {
  const def = loadServiceDefinition(o.cfg.stage);
  const consumer = (role: 'scan' | 'crawl' | 'transfer') => {
    const c = def.consumers.find((x) => x.role === role);
    if (!c) throw new ConfigError(`serverless.yml has no ${role} function`);
    return c;
  };
  return {
    chunkFiles: o.cfg.transfer.chunkFiles,
    partSizeBytes: o.cfg.transfer.partSizeBytes,
    transferConcurrency: o.cfg.transfer.concurrency,
    scanPageSize: o.cfg.scan.pageSize,
    transferBatchSize: consumer('transfer').batchSize,
    transferMaxConcurrency: o.transferMaxConcurrency ?? consumer('transfer').maximumConcurrency,
    crawlerMaxConcurrency: consumer('crawl').maximumConcurrency,
    scannerMaxConcurrency: consumer('scan').maximumConcurrency,
    accountConcurrency: o.accountConcurrency ?? ASSUMED.accountConcurrency,
    transferMemoryMb: o.memoryMb ?? transferMemoryOf(o.cfg.stage),
    otherMemoryMb: ASSUMED.otherMemoryMb,
    architecture: 'arm64',
    cpuMsPerFile: o.cpuMsPerFile ?? BENCH.cpuMsPerFile,
    workerMBps: o.workerMBps ?? BENCH.workerMBps,
    fileLatencyMs: o.fileLatencyMs ?? ASSUMED.fileLatencyMs,
    scanSecondsPerPage: ASSUMED.scanSecondsPerPage,
    originRps: o.originRps,
    originMBps: o.originMBps,
    originPlace: o.originPlace,
  };
}

/** A stable 24-hex id for a class known only by its URL, shaped like the catalog's ObjectIds (message sizes depend on it). */
function urlClassId(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 24);
}

/** Measures the sample and extrapolates it to the library. */
export async function runEstimate(o: EstimateOptions): Promise<EstimateReport> {
  const settings = estimateSettings(o);
  const prices = loadPrices(o.pricesFile ?? DEFAULT_PRICES_FILE);
  const random = seededRandom(o.seed);
  const say = o.onProgress ?? (() => undefined);
  let allowedHosts = [...o.cfg.originAllowedHosts, ...o.allowHosts];
  let targets: SampleTarget[];
  let libraryClasses = o.classes;
  let catalogDocuments: number | undefined;

  const classesFrom = librarySizeSource(o.masterUrls.length, o.classes, o.catalog !== undefined);

  if (o.masterUrls.length > 0) {
    const urls = o.masterUrls.map((raw) => {
      const url = URL.canParse(raw) ? new URL(raw) : undefined;
      if (!url || !isFetchableScheme(url))
        throw new ConfigError(`estimate takes http(s) master playlist URLs, not ${raw}`);
      return url;
    });
    // As `flants plan` does: without ORIGIN_ALLOWED_HOSTS, trust exactly the hosts named, nothing they link to.
    if (o.cfg.originAllowedHosts.length === 0)
      allowedHosts = [...new Set(urls.map((u) => u.host.toLowerCase())), ...o.allowHosts];
    for (const u of urls)
      if (!isHostAllowed(u, allowedHosts))
        throw new ConfigError(`host "${u.host}" is not in ORIGIN_ALLOWED_HOSTS (or --allow-host): refusing ${u.href}`);
    // Arguments first: nothing is counted or crawled for a question that cannot be answered.
    const problem = sampleSizeProblem(urls.length, o.classes, o.catalog !== undefined);
    if (problem) throw new ConfigError(problem);
    targets = urls.map((u) => ({ classId: urlClassId(u.href), title: u.pathname, manifestUrl: u.href }));
    if (libraryClasses === undefined && o.catalog) {
      say("Counting the catalog's valid classes...");
      const counted = await sampleCatalog(await o.catalog(), {
        fields: o.cfg.mongo.fields,
        allowedHosts,
        size: 0,
        random,
        pageSize: Math.max(o.cfg.scan.pageSize, 1000),
      });
      libraryClasses = counted.validClasses;
      catalogDocuments = counted.documents;
      if (counted.validClasses === 0)
        throw new ConfigError(
          `the catalog has no class ready to copy (${counted.documents} documents); give --classes`,
        );
    }
    libraryClasses ??= targets.length;
  } else {
    if (!o.catalog)
      throw new ConfigError('estimate needs master playlist URLs, or a catalog to sample (set MONGODB_URI)');
    if (allowedHosts.length === 0)
      throw new ConfigError(
        'ORIGIN_ALLOWED_HOSTS is empty: every catalog class would be skipped (set it, or use --allow-host)',
      );
    say(`Reading the catalog and drawing ${o.sample} classes...`);
    const drawn = await sampleCatalog(await o.catalog(), {
      fields: o.cfg.mongo.fields,
      allowedHosts,
      size: o.sample,
      random,
      pageSize: Math.max(o.cfg.scan.pageSize, 1000),
    });
    if (drawn.validClasses === 0) {
      const reasons = Object.entries(drawn.skipped)
        .map(([r, n]) => `${n} ${r}`)
        .join(', ');
      throw new ConfigError(
        `the catalog has no class ready to copy (${drawn.documents} documents${reasons ? `: ${reasons}` : ''})`,
      );
    }
    targets = drawn.sample.map((c) => ({ classId: c.classId, title: c.title, manifestUrl: c.manifestUrl }));
    libraryClasses ??= drawn.validClasses;
    // A library of another size (--classes) has a catalog of that size, with the same share of skipped documents.
    catalogDocuments = Math.round((drawn.documents * libraryClasses) / drawn.validClasses);
  }
  if (libraryClasses < targets.length)
    throw new ConfigError(`--classes ${libraryClasses} is smaller than the sample (${targets.length} classes)`);

  const origin = createOrigin({
    allowedHosts,
    maxRedirects: o.cfg.origin.maxRedirects,
    connectTimeoutMs: o.cfg.origin.connectTimeoutMs,
    headersTimeoutMs: o.cfg.origin.headersTimeoutMs,
    bodyTimeoutMs: o.cfg.origin.bodyTimeoutMs,
    connections: o.concurrency,
  });
  let crawl;
  try {
    crawl = await crawlSample(targets, {
      cfg: o.cfg,
      allowedHosts,
      origin,
      concurrency: o.concurrency,
      budget: new RequestBudget(o.budget),
      random,
      shape: { chunkFiles: settings.chunkFiles, partSizeBytes: settings.partSizeBytes },
      onClass: (done, of, p) => say(`  ${done}/${of} ${p ? `${p.classId}: ${p.files} files` : ''}`),
    });
  } finally {
    await origin.close();
  }
  const n = crawl.profiles.length;
  if (n === 0 || (n < 2 && libraryClasses > n)) {
    throw new ConfigError(
      `measured ${n} class${n === 1 ? '' : 'es'}: a range needs at least 2 (or the whole library)${crawl.warnings.length ? `; ${crawl.warnings.join('; ')}` : ''}`,
    );
  }
  const warnings = [...crawl.warnings];
  if (n === libraryClasses) warnings.push('the sample is the whole library: the totals are measured, not estimated');
  const report = extrapolate({
    profiles: crawl.profiles,
    libraryClasses,
    catalogDocuments: catalogDocuments ?? libraryClasses,
    confidence: o.confidence,
    settings,
    prices,
    pricesFile: o.pricesFile ?? 'src/estimate/prices.us-east-1.json',
    sampleSeconds: crawl.seconds,
    sampleRequests: crawl.requests,
    warnings,
  });
  return { ...report, library: { ...report.library, classesFrom } };
}
