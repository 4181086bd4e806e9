import {
  MESSAGE_VERSION,
  type CatalogScan,
  type ClassScan,
  type CrawlJob,
  type RecheckScan,
  type ScanRequest,
  type TransferJob,
} from './schemas.ts';

/**
 * The one place a message is stamped with its version and type. Every sender builds its messages
 * here, so a new version (or a new envelope field) is one edit, and the compiler checks each
 * message's fields against its schema's type. No runtime parse: the receiver validates (and a
 * sender's thousands of transfer jobs would pay for a parse each).
 */

/** Leaves out keys of every member of a union (the plain `Omit` would merge a scan request's modes). */
type Fields<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A crawl job for one class. */
export function crawlJob(fields: Fields<CrawlJob, 'v' | 'type'>): CrawlJob {
  return { v: MESSAGE_VERSION, type: 'crawl', ...fields };
}

/** A transfer job: one chunk of a class's plan. */
export function transferJob(fields: Fields<TransferJob, 'v' | 'type'>): TransferJob {
  return { v: MESSAGE_VERSION, type: 'transfer', ...fields };
}

/** A scan request, by mode: the catalog, one class, or a change check (its type follows the mode). */
export function scanRequest(fields: Fields<CatalogScan, 'v' | 'type'>): CatalogScan;
export function scanRequest(fields: Fields<ClassScan, 'v' | 'type'>): ClassScan;
export function scanRequest(fields: Fields<RecheckScan, 'v' | 'type'>): RecheckScan;
export function scanRequest(fields: Fields<ScanRequest, 'v' | 'type'>): ScanRequest;
export function scanRequest(fields: Fields<ScanRequest, 'v' | 'type'>): ScanRequest {
  return { v: MESSAGE_VERSION, type: 'scan', ...fields };
}
