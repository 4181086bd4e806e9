/**
 * The price table and the cost model, pure apart from reading the table: what a copy's requests,
 * duration and data transfer cost at the prices of one region.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';

/** The table shipped with FLAnts (us-east-1 list prices; see its `note`). */
export const DEFAULT_PRICES_FILE = fileURLToPath(new URL('./prices.us-east-1.json', import.meta.url));

const Price = z.strictObject({
  usd: z.number().nonnegative(),
  unit: z.string().min(1),
  source: z.string().min(1),
  asOf: z.string().regex(/^\d{4}-\d{2}(-\d{2})?$/, 'asOf must be a date like 2026-12-01'),
  tiers: z
    .array(z.strictObject({ upToGb: z.number().positive().optional(), usd: z.number().nonnegative() }))
    .min(1)
    .optional(),
});

const PriceTableSchema = z.strictObject({
  region: z.string().min(1),
  currency: z.literal('USD'),
  transcribed: z.string().min(1),
  note: z.string().optional(),
  prices: z.strictObject({
    s3PutPer1000: Price,
    s3GetPer1000: Price,
    s3StorageGbMonth: Price,
    sqsRequestPerMillion: Price,
    dynamodbWritePerMillion: Price,
    dynamodbReadPerMillion: Price,
    lambdaRequestPerMillion: Price,
    lambdaGbSecondArm: Price,
    lambdaGbSecondX86: Price,
    transferInterRegionPerGb: Price,
    transferInternetPerGb: Price,
    cloudfrontOutPerGb: Price,
    cloudfrontHttpsPer10000: Price,
  }),
});

export type PriceTable = z.infer<typeof PriceTableSchema>;
export type PriceEntry = z.infer<typeof Price>;

/** Reads and validates a price table (the shipped one by default); errors name the file and the field. */
export function loadPrices(file: string = DEFAULT_PRICES_FILE): PriceTable {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read price table ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const res = PriceTableSchema.safeParse(raw);
  if (!res.success) {
    const issue = res.error.issues[0];
    throw new ConfigError(
      `price table ${file} is invalid at ${issue?.path.join('.') || 'top level'}: ${issue?.message ?? 'unknown problem'}`,
    );
  }
  return res.data;
}

/** The cost of `gb` at a tiered price (tiers in order, each up to a cumulative GB, the last open); flat without tiers. */
export function tieredCost(gb: number, price: PriceEntry): number {
  if (!price.tiers) return gb * price.usd;
  let cost = 0;
  let from = 0;
  for (const tier of price.tiers) {
    const to = tier.upToGb ?? Number.POSITIVE_INFINITY;
    if (gb <= from) break;
    cost += (Math.min(gb, to) - from) * tier.usd;
    from = to;
  }
  return cost;
}

/** Where the origin is, as far as AWS bills reading it. */
export const ORIGIN_PLACES = ['outside', 's3-same-region', 's3-other-region', 'cloudfront', 'aws-internet'] as const;
export type OriginPlace = (typeof ORIGIN_PLACES)[number];

/** Everything a copy uses that AWS bills. */
export interface Usage {
  s3: { putRequests: number };
  sqs: { requests: number };
  dynamodb: { readUnits: number; writeUnits: number };
  lambda: { invocations: number; gbSeconds: number; architecture: 'arm64' | 'x86_64' };
  /** What the transfer and the crawler read from the origin. */
  origin: { requests: number; bytes: number; place: OriginPlace };
  /** Bytes stored at the end (for the informational monthly storage line). */
  storedBytes: number;
}

/** The cost of a copy, by service, in USD. */
export interface Cost {
  s3: number;
  sqs: number;
  dynamodb: number;
  lambda: number;
  /** Reading the origin, when AWS bills it (data transfer out, origin requests). */
  origin: number;
  total: number;
  /** Informational, not in `total`: storing the copy in S3 Standard for a month. */
  storagePerMonth: number;
}

// AWS bills storage and data transfer by the binary gigabyte (2^30 bytes).
const GB = 1024 ** 3;

/** Prices a copy's usage (a GB is 2^30 bytes, as AWS bills storage and data transfer). */
export function costOf(u: Usage, table: PriceTable): Cost {
  const p = table.prices;
  const s3 = (u.s3.putRequests / 1000) * p.s3PutPer1000.usd;
  const sqs = (u.sqs.requests / 1e6) * p.sqsRequestPerMillion.usd;
  const dynamodb =
    (u.dynamodb.writeUnits / 1e6) * p.dynamodbWritePerMillion.usd +
    (u.dynamodb.readUnits / 1e6) * p.dynamodbReadPerMillion.usd;
  const gbSecond = u.lambda.architecture === 'arm64' ? p.lambdaGbSecondArm.usd : p.lambdaGbSecondX86.usd;
  const lambda = (u.lambda.invocations / 1e6) * p.lambdaRequestPerMillion.usd + u.lambda.gbSeconds * gbSecond;
  const gb = u.origin.bytes / GB;
  let origin = 0;
  switch (u.origin.place) {
    case 'outside':
      // The origin's own provider may bill its egress; that is not an AWS line.
      break;
    case 's3-same-region':
      // Data from S3 to Lambda in the same region is free; the GETs are not.
      origin = (u.origin.requests / 1000) * p.s3GetPer1000.usd;
      break;
    case 's3-other-region':
      origin = (u.origin.requests / 1000) * p.s3GetPer1000.usd + gb * p.transferInterRegionPerGb.usd;
      break;
    case 'cloudfront':
      origin = tieredCost(gb, p.cloudfrontOutPerGb) + (u.origin.requests / 10_000) * p.cloudfrontHttpsPer10000.usd;
      break;
    case 'aws-internet':
      origin = tieredCost(gb, p.transferInternetPerGb);
      break;
  }
  const total = s3 + sqs + dynamodb + lambda + origin;
  return { s3, sqs, dynamodb, lambda, origin, total, storagePerMonth: (u.storedBytes / GB) * p.s3StorageGbMonth.usd };
}
