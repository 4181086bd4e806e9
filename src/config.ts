// One file on purpose: the one module that reads the environment; the Config type (a third of it) documents each setting beside the parser that validates it, and the rules it reads into are the domain's.
import { ConfigError } from './errors.ts';
import {
  CHANGE_FIELDS,
  MAX_CHUNKS_PER_CLASS,
  QUEUE_ROLES,
  type CatalogFields,
  type ChangeField,
  type FreshRules,
  type HlsLimits,
  type QueueName,
  type QueueRole,
} from './domain/vocabulary.ts';
import { normalizePrefix } from './domain/planning/prefix.ts';
import { AllowEntryError, formatAllowEntry, parseAllowEntry } from './domain/origin/hosts.ts';
import { LimitSettingError, parsePerHost, requestShare, type PerHost } from './domain/origin/politeness.ts';

/**
 * ALSO_COPY_MANIFESTS: comma-separated paths relative to a class's manifest (`manifest.mpd`,
 * `dash/stream.mpd`), never absolute, never climbing out with "..": a second manifest of the same class.
 */
function alsoCopyManifests(env: Env): string[] {
  const raw = env.ALSO_COPY_MANIFESTS ?? '';
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const n of names) {
    if (!/^[A-Za-z0-9._~=-][A-Za-z0-9._~=/-]*$/.test(n) || n.split('/').some((seg) => seg === '..' || seg === '.'))
      throw new ConfigError(
        `ALSO_COPY_MANIFESTS entry "${n}" must be a path relative to the class's manifest, like "manifest.mpd" or "dash/stream.mpd" (letters, digits, . _ ~ = - and /; no "..")`,
      );
  }
  return [...new Set(names)];
}

export interface Config {
  /** AWS region; undefined only where nothing talks to AWS (e.g. `flants plan`). */
  region: string | undefined;
  stage: string;
  mongo: {
    uri: string | undefined;
    /** SSM Parameter Store name (SecureString) holding the URI, read at cold start when `uri` is unset (Lambda). */
    uriSsmParam?: string | undefined;
    db: string | undefined;
    collection: string;
    fields: CatalogFields;
  };
  destBucket: string;
  destPrefix: string;
  tableName: string;
  queueNames: Record<QueueRole, { queue: string; dlq: string }>;
  /** The fresh lane's queues (`flants-<stage>-<role>-fresh` and its DLQ). */
  freshQueueNames: Record<QueueRole, { queue: string; dlq: string }>;
  queueUrls: Partial<Record<QueueName, string>>;
  /** What travels the fresh lane (src/domain/lifecycle/lanes.ts applies it). */
  fresh: FreshRules;
  originAllowedHosts: string[];
  forcePathStyle: boolean;
  /**
   * Endpoints and static credentials from the environment given to loadConfig, so clients built
   * from a config reach what that environment names without anything reading process.env later.
   * Absent values leave the SDK its defaults (regional endpoints, the Lambda role's credentials).
   */
  aws: {
    endpoints: {
      sqs?: string | undefined;
      s3?: string | undefined;
      dynamodb?: string | undefined;
      ssm?: string | undefined;
      /** Only an explicit AWS_ENDPOINT_URL_CLOUDWATCH: the lab's endpoint serves no CloudWatch (queue ages). */
      cloudwatch?: string | undefined;
    };
    credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined } | undefined;
  };
  hls: HlsLimits;
  transfer: {
    /** Files per transfer job (one chunk). */
    chunkFiles: number;
    /** Files copied at once within one invocation. */
    concurrency: number;
    /** Multipart part size in bytes (local S3 refuses bodies over 11 MiB). */
    partSizeBytes: number;
    /** Largest single file accepted, in bytes. */
    maxFileBytes: number;
    /** In-attempt retries for transient origin and S3 errors. */
    retryAttempts: number;
    retryBaseDelayMs: number;
    /** Bytes of upload buffers one invocation may hold at once (parts in flight across all files). */
    memoryBudgetBytes: number;
  };
  /** Seconds a failed delivery stays invisible before SQS delivers it again, by delivery (1st, 2nd, ...). */
  retryBackoffSeconds: number[];
  growing: {
    /** How long after a class's end its playlists may still grow (no EXT-X-ENDLIST) before it is copied as it stands. */
    graceSeconds: number;
    /** How soon a waiting class is crawled again. */
    recheckSeconds: number;
  };
  origin: { connectTimeoutMs: number; headersTimeoutMs: number; bodyTimeoutMs: number; maxRedirects: number };
  /**
   * Fleet-wide limits toward each origin host (docs/architecture.md, "Politeness to the origin"):
   * every process reads at most 1/`shares` of each.
   */
  originLimits: {
    requestsPerSecond: PerHost;
    /** MB/s, 10^6 bytes. */
    megabytesPerSecond: PerHost;
    /** Processes that may read the origin at once across the fleet (the mappings' maximum concurrency, or `flants run --workers`). */
    shares: number;
    /** Seconds between a process's reports of its origin answers to the ledger (the dashboard's figures, the fleet's throttle news). */
    reportSeconds: number;
  };
  scan: {
    pageSize: number;
    /** Catalog fields (logical names) the scheduled scan reads changes by, in this order. */
    changeFields: ChangeField[];
    /** How far before the watermark an incremental scan starts reading: clock skew and late commits. */
    overlapSeconds: number;
  };
  recheck: {
    /** `all`: a change check asks the origin about every file (HEAD); `playlists`: only playlists (conditional GETs). */
    files: 'all' | 'playlists';
    /** Origin requests one class's check makes at once. */
    concurrency: number;
  };
  /** Receives after which SQS moves a message to its DLQ (serverless.yml's maxReceiveCount). */
  maxReceiveCount: number;
  /**
   * Re-plans in a row a class may make because a transfer found a playlist naming other files than
   * its plan (PLAYLIST_CHANGED); the next such finding fails the class, naming the playlist.
   */
  replanMax: number;
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback?: string): string {
  const v = env[name]?.trim();
  if (v) return v;
  if (fallback !== undefined) return fallback;
  throw new ConfigError(`${name} is required but not set`);
}

function optional(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['1', 'true', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function url(env: Env, name: string): string | undefined {
  const raw = optional(env, name);
  if (raw === undefined) return undefined;
  try {
    new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an absolute URL, got "${raw}"`);
  }
  return raw;
}

/**
 * Parses ORIGIN_ALLOWED_HOSTS: comma-separated host names, `host:port`, `*.domain` wildcards or IP
 * literals, returned in canonical form. Malformed and over-broad entries (`*.com`, `*..`, a URL,
 * a numeric shorthand like `127.1`) stop the command with an error naming the variable.
 */
export function parseAllowedHosts(raw: string, name = 'ORIGIN_ALLOWED_HOSTS'): string[] {
  const out: string[] = [];
  for (const text of raw
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean)) {
    try {
      out.push(formatAllowEntry(parseAllowEntry(text)));
    } catch (err) {
      if (!(err instanceof AllowEntryError)) throw err;
      throw new ConfigError(
        `${name} ${err.message} (use "cdn.example.com", "host:port", "*.example.com" or an IP address like "10.0.0.5:8080")`,
      );
    }
  }
  return out;
}

/** Parses a comma-separated list of whole seconds (0..43200, SQS's longest visibility timeout). */
function backoffList(env: Env, name: string, fallback: number[]): number[] {
  const raw = optional(env, name);
  if (!raw) return fallback;
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^\d+$/.test(p) || Number(p) > 43_200))
    throw new ConfigError(
      `${name} must be whole seconds (0 to 43200) separated by commas, like "30,300", got "${raw}"`,
    );
  return parts.map(Number);
}

/**
 * TRANSFER_MEMORY_BUDGET_MB, or half the Lambda function's memory (the rest is Node, the SDK and
 * sockets), or 512 MiB elsewhere.
 */
function memoryBudget(env: Env): number {
  const lambdaMb = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? NaN);
  const fallback = Number.isFinite(lambdaMb) && lambdaMb > 0 ? Math.max(64, Math.floor(lambdaMb / 2)) : 512;
  return int(env, 'TRANSFER_MEMORY_BUDGET_MB', fallback, 16, 10_240) * 1024 * 1024;
}

/** The SDK's own endpoint variables (service-specific first) and static credentials, when the environment has them. */
function awsSettings(env: Env): Config['aws'] {
  const any = url(env, 'AWS_ENDPOINT_URL');
  const endpoints = {
    sqs: url(env, 'AWS_ENDPOINT_URL_SQS') ?? any,
    s3: url(env, 'AWS_ENDPOINT_URL_S3') ?? any,
    dynamodb: url(env, 'AWS_ENDPOINT_URL_DYNAMODB') ?? any,
    ssm: url(env, 'AWS_ENDPOINT_URL_SSM') ?? any,
    cloudwatch: url(env, 'AWS_ENDPOINT_URL_CLOUDWATCH'),
  };
  const accessKeyId = optional(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = optional(env, 'AWS_SECRET_ACCESS_KEY');
  const credentials =
    accessKeyId && secretAccessKey
      ? { accessKeyId, secretAccessKey, sessionToken: optional(env, 'AWS_SESSION_TOKEN') }
      : undefined;
  return { endpoints, ...(credentials ? { credentials } : {}) };
}

/** Parses CATALOG_FIELDS, e.g. "manifestUrl=hlsUrl,endedAt=finishedAt". */
function catalogFields(env: Env): CatalogFields {
  const fields: CatalogFields = {
    title: 'title',
    manifestUrl: 'manifestUrl',
    status: 'status',
    isTest: 'isTest',
    startedAt: 'startedAt',
    endedAt: 'endedAt',
    updatedAt: 'updatedAt',
  };
  const raw = optional(env, 'CATALOG_FIELDS');
  if (!raw) return fields;
  for (const pair of raw.split(',')) {
    const [k, v] = pair.split('=').map((s) => s.trim());
    if (!k || !v || !(k in fields)) {
      throw new ConfigError(
        `CATALOG_FIELDS entry "${pair}" must be <field>=<document field>, with <field> one of ${Object.keys(fields).join(', ')}`,
      );
    }
    fields[k as keyof CatalogFields] = v;
  }
  return fields;
}

/** Parses SCAN_CHANGE_FIELDS: a comma-separated subset of the change fields, in reading order. */
function changeFields(env: Env): ChangeField[] {
  const raw = optional(env, 'SCAN_CHANGE_FIELDS');
  if (!raw) return [...CHANGE_FIELDS];
  const list = raw
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  if (
    list.length === 0 ||
    list.some((f) => !(CHANGE_FIELDS as readonly string[]).includes(f)) ||
    new Set(list).size !== list.length
  ) {
    throw new ConfigError(
      `SCAN_CHANGE_FIELDS must list ${CHANGE_FIELDS.join(' and/or ')} (comma-separated, each once), got "${raw}"`,
    );
  }
  return list as ChangeField[];
}

/** Parses a choice among a few words. */
function oneOf<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = optional(env, name);
  if (!raw) return fallback;
  if (!(choices as readonly string[]).includes(raw))
    throw new ConfigError(`${name} must be one of ${choices.join(', ')}, got "${raw}"`);
  return raw as T;
}

/**
 * ORIGIN_MAX_REQUESTS_PER_SECOND, ORIGIN_MAX_MBPS and the shares they are split into: ORIGIN_LIMIT_SHARES,
 * else the crawler's and transfer's maximum concurrency (serverless.yml passes them), else 1.
 */
function originLimits(env: Env): Config['originLimits'] {
  const perHost = (name: string, max: number): PerHost => {
    try {
      return parsePerHost(env[name], max);
    } catch (err) {
      if (!(err instanceof LimitSettingError)) throw err;
      throw new ConfigError(`${name} ${err.message} (e.g. "50" or "50,slow.example.com=10")`);
    }
  };
  const requestsPerSecond = perHost('ORIGIN_MAX_REQUESTS_PER_SECOND', 1_000_000);
  const megabytesPerSecond = perHost('ORIGIN_MAX_MBPS', 1_000_000);
  const crawlers = int(env, 'FLANTS_CRAWLER_MAX_CONCURRENCY', 0, 0, 10_000);
  const transfers = int(env, 'FLANTS_TRANSFER_MAX_CONCURRENCY', 0, 0, 10_000);
  const shares = int(env, 'ORIGIN_LIMIT_SHARES', Math.max(1, crawlers + transfers), 1, 10_000);
  for (const [host, limit] of [
    ['every host', requestsPerSecond.default],
    ...Object.entries(requestsPerSecond.hosts),
  ] as const) {
    if (limit !== undefined && requestShare(limit, shares) === undefined)
      throw new ConfigError(
        `ORIGIN_MAX_REQUESTS_PER_SECOND ${limit} for ${host} is less than one request per second for each of the ` +
          `${shares} processes that may read the origin at once (ORIGIN_LIMIT_SHARES: the crawler's and transfer's ` +
          `maximum concurrency, or flants run --workers): raise the limit to at least ${shares}, or lower that concurrency`,
      );
  }
  return {
    requestsPerSecond,
    megabytesPerSecond,
    shares,
    reportSeconds: int(env, 'ORIGIN_REPORT_SECONDS', 30, 1, 3600),
  };
}

/** Reads and validates the whole configuration from the environment; errors name the variable. */
export function loadConfig(env: Env = process.env): Config {
  const region = optional(env, 'AWS_REGION') ?? optional(env, 'AWS_DEFAULT_REGION');
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    throw new ConfigError(`AWS_REGION must be a region like "eu-west-1", got "${region}"`);
  const stage = str(env, 'FLANTS_STAGE', 'dev');
  if (!/^[a-z0-9][a-z0-9-]{0,15}$/.test(stage)) {
    throw new ConfigError(`FLANTS_STAGE must be 1-16 lowercase letters, digits or dashes, got "${stage}"`);
  }
  const base = `flants-${stage}`;
  const queueNames = Object.fromEntries(
    QUEUE_ROLES.map((r) => [r, { queue: `${base}-${r}`, dlq: `${base}-${r}-dlq` }]),
  ) as Config['queueNames'];
  const freshQueueNames = Object.fromEntries(
    QUEUE_ROLES.map((r) => [r, { queue: `${base}-${r}-fresh`, dlq: `${base}-${r}-fresh-dlq` }]),
  ) as Config['freshQueueNames'];
  const queueUrls: Config['queueUrls'] = {};
  for (const r of QUEUE_ROLES) {
    const R = r.toUpperCase();
    const q = url(env, `FLANTS_${R}_QUEUE_URL`);
    const d = url(env, `FLANTS_${R}_DLQ_URL`);
    const fq = url(env, `FLANTS_${R}_FRESH_QUEUE_URL`);
    const fd = url(env, `FLANTS_${R}_FRESH_DLQ_URL`);
    if (q) queueUrls[r] = q;
    if (d) queueUrls[`${r}-dlq`] = d;
    if (fq) queueUrls[`${r}-fresh`] = fq;
    if (fd) queueUrls[`${r}-fresh-dlq`] = fd;
  }
  const mongoUri = optional(env, 'MONGODB_URI');
  if (mongoUri && !/^mongodb(\+srv)?:\/\//.test(mongoUri))
    throw new ConfigError('MONGODB_URI must start with mongodb:// or mongodb+srv://');
  const mongoUriSsmParam = optional(env, 'MONGODB_URI_SSM_PARAM');
  // Parameter names: letters, digits and . - _ /, hierarchical ones starting with "/" (serverless.yml builds the ARN from it).
  if (mongoUriSsmParam && !/^\/?[A-Za-z0-9_.\-/]{1,1011}$/.test(mongoUriSsmParam)) {
    throw new ConfigError(
      `MONGODB_URI_SSM_PARAM must be an SSM parameter name like "/flants/prod/mongodb-uri", got "${mongoUriSsmParam}"`,
    );
  }
  const bucket = str(env, 'DEST_BUCKET', `${base}-media`);
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new ConfigError(`DEST_BUCKET "${bucket}" is not a valid S3 bucket name`);
  const partSizeMiB = int(env, 'TRANSFER_PART_SIZE_MB', 16, 5, 5120);
  const maxFiles = int(env, 'HLS_MAX_FILES', 200_000, 1, 10_000_000);
  const chunkFiles = int(env, 'TRANSFER_CHUNK_FILES', 100, 1, 500);
  // The ledger keeps chunk numbers as six digits in its sort keys (docs/ledger.md, "Item size budget").
  const maxChunks = Math.ceil(maxFiles / chunkFiles);
  if (maxChunks > MAX_CHUNKS_PER_CLASS)
    throw new ConfigError(
      `HLS_MAX_FILES / TRANSFER_CHUNK_FILES allows ${maxFiles} / ${chunkFiles} = ${maxChunks} chunks per class; the ledger holds at most ${MAX_CHUNKS_PER_CLASS}: lower HLS_MAX_FILES or raise TRANSFER_CHUNK_FILES`,
    );

  return {
    region,
    stage,
    mongo: {
      uri: mongoUri,
      uriSsmParam: mongoUriSsmParam,
      db: optional(env, 'MONGODB_DB'),
      collection: str(env, 'MONGODB_COLLECTION', 'classes'),
      fields: catalogFields(env),
    },
    destBucket: bucket,
    destPrefix: normalizePrefix(env.DEST_PREFIX ?? ''),
    tableName: str(env, 'FLANTS_TABLE', `${base}-ledger`),
    queueNames,
    freshQueueNames,
    queueUrls,
    fresh: {
      withinHours: int(env, 'FRESH_WITHIN_HOURS', 24, 0, 24 * 365),
      changed: bool(env, 'FRESH_CHANGED', true),
      enqueue: bool(env, 'FRESH_ENQUEUE', true),
    },
    originAllowedHosts: parseAllowedHosts(env.ORIGIN_ALLOWED_HOSTS ?? ''),
    // Local S3 servers answer on one host name, so virtual-hosted buckets cannot resolve.
    forcePathStyle: bool(
      env,
      'AWS_S3_FORCE_PATH_STYLE',
      Boolean(optional(env, 'AWS_ENDPOINT_URL_S3') ?? optional(env, 'AWS_ENDPOINT_URL')),
    ),
    aws: awsSettings(env),
    hls: {
      maxPlaylistBytes: int(env, 'HLS_MAX_PLAYLIST_BYTES', 8 * 1024 * 1024, 1024, 256 * 1024 * 1024),
      maxPlaylists: int(env, 'HLS_MAX_PLAYLISTS', 1000, 1, 100_000),
      maxFiles,
      maxDepth: int(env, 'HLS_MAX_DEPTH', 3, 1, 10),
      maxCrawlBytes: int(env, 'HLS_MAX_CRAWL_BYTES', 256 * 1024 * 1024, 1024, 64 * 1024 * 1024 * 1024),
      maxPeriods: int(env, 'DASH_MAX_PERIODS', 1000, 1, 100_000),
      maxSegments: int(env, 'DASH_MAX_SEGMENTS', 100_000, 1, 10_000_000),
      alsoCopyManifests: alsoCopyManifests(env),
    },
    transfer: {
      chunkFiles,
      concurrency: int(env, 'TRANSFER_CONCURRENCY', 8, 1, 256),
      partSizeBytes: partSizeMiB * 1024 * 1024,
      maxFileBytes: int(env, 'TRANSFER_MAX_FILE_MB', 5 * 1024, 1, 5 * 1024 * 1024) * 1024 * 1024,
      retryAttempts: int(env, 'TRANSFER_RETRY_ATTEMPTS', 4, 1, 20),
      retryBaseDelayMs: int(env, 'TRANSFER_RETRY_BASE_MS', 200, 1, 60_000),
      memoryBudgetBytes: memoryBudget(env),
    },
    retryBackoffSeconds: backoffList(env, 'RETRY_BACKOFF_SECONDS', [30, 300]),
    growing: {
      graceSeconds: int(env, 'GROWING_GRACE_MINUTES', 15, 0, 7 * 24 * 60) * 60,
      recheckSeconds: int(env, 'GROWING_RECHECK_SECONDS', 60, 1, 900),
    },
    origin: {
      connectTimeoutMs: int(env, 'ORIGIN_CONNECT_TIMEOUT_MS', 5_000, 100, 120_000),
      headersTimeoutMs: int(env, 'ORIGIN_HEADERS_TIMEOUT_MS', 15_000, 100, 300_000),
      bodyTimeoutMs: int(env, 'ORIGIN_BODY_TIMEOUT_MS', 30_000, 100, 600_000),
      maxRedirects: int(env, 'ORIGIN_MAX_REDIRECTS', 5, 0, 20),
    },
    originLimits: originLimits(env),
    scan: {
      pageSize: int(env, 'SCAN_PAGE_SIZE', 500, 1, 10_000),
      changeFields: changeFields(env),
      overlapSeconds: int(env, 'SCAN_OVERLAP_SECONDS', 600, 0, 7 * 86_400),
    },
    recheck: {
      files: oneOf(env, 'RECHECK_FILES', ['all', 'playlists'] as const, 'all'),
      concurrency: int(env, 'RECHECK_CONCURRENCY', 16, 1, 256),
    },
    maxReceiveCount: int(env, 'FLANTS_MAX_RECEIVE_COUNT', 3, 1, 1000),
    replanMax: int(env, 'REPLAN_MAX', 5, 1, 100),
  };
}

/** Returns a value the caller cannot work without, or a ConfigError naming its variable. */
export function required<T>(value: T | undefined, name: string, why: string): T {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) {
    throw new ConfigError(`${name} is required ${why}`);
  }
  return value;
}
