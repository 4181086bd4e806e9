/**
 * What `flants verify` costs for a library (docs/verify.md): a HEAD per file (billed as an S3 GET-class
 * request), a LIST per 1,000 keys under each class root (a PUT-class request), the ledger's chunk
 * records read once; with `--deep` a GET per file, and its bytes' transfer out when run outside AWS.
 */
import { verifyRequests } from '../verify/findings.ts';
import type { PriceTable } from './prices.ts';

export interface VerifyCost {
  requests: { head: number; list: number; getDeep: number };
  /** A verification of every class: HEADs and LISTs. */
  usd: number;
  /** With --deep, run inside the bucket's region (no transfer charge). */
  usdDeep: number;
  /** With --deep, run from outside AWS: the bytes leave S3 for the internet too. */
  usdDeepOutside: number;
}

export function verifyCost(classes: number, files: number, bytes: number, prices: PriceTable): VerifyCost {
  const p = prices.prices;
  // Each class is listed on its own: a small class still costs one LIST.
  const list = Math.max(classes, verifyRequests(files).list);
  const head = files;
  const base = (head / 1000) * p.s3GetPer1000.usd + (list / 1000) * p.s3PutPer1000.usd;
  const deep = base + (files / 1000) * p.s3GetPer1000.usd;
  return {
    requests: { head, list, getDeep: files },
    usd: base,
    usdDeep: deep,
    usdDeepOutside: deep + (bytes / 1e9) * p.transferInternetPerGb.usd,
  };
}
