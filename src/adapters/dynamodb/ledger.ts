/**
 * The ledger in DynamoDB, on the single table of serverless.yml: `createLedger` composes its parts,
 * each implementing a share of the domain's `ClassLedger` and `ScanLedger` (src/domain/ports/ledger.ts):
 *
 * - ledger-table.ts: the shared reads and `transition`, the one loop that writes a lifecycle decision
 *   conditionally on its guard (retried through `withRetry`; DynamoDB's answers classified in errors.ts);
 * - ledger-transitions.ts: the class's lifecycle writes (pending, crawling, waiting, planned, checked, failed …);
 * - ledger-chunks.ts, ledger-failures.ts: the chunk and failure transactions, and their records read back;
 * - ledger-classes.ts: class records read one by one and across the class index's partitions;
 * - ledger-scans.ts: scan page claims, page records and the watermark;
 * - ledger-codec.ts (keys, items ↔ records), ledger-items.ts (item bounds), ledger-expressions.ts
 *   (a decision's guard and effect as DynamoDB expressions): pure.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Ledger } from '../../domain/ports/ledger.ts';
import { chunkRecords } from './ledger-chunks.ts';
import { classReads } from './ledger-classes.ts';
import { chunkFailures } from './ledger-failures.ts';
import { CHUNKS_PER_STATE_ITEM } from './ledger-items.ts';
import { scanLedger } from './ledger-scans.ts';
import { ledgerTable } from './ledger-table.ts';
import { classTransitions } from './ledger-transitions.ts';

export interface LedgerOptions {
  /** Chunks whose state one item holds (CHUNKS_PER_STATE_ITEM); tests lower it to reach further items with small plans. */
  chunksPerStateItem?: number;
}

/** DynamoDB-backed Ledger on the single table of serverless.yml. */
export function createLedger(ddb: DynamoDBDocumentClient, table: string, opts: LedgerOptions = {}): Ledger {
  const t = ledgerTable(ddb, table, opts.chunksPerStateItem ?? CHUNKS_PER_STATE_ITEM);
  const chunks = chunkRecords(t);
  return {
    ...classReads(t),
    ...classTransitions(t, chunks.listChunks),
    ...chunks,
    ...chunkFailures(t),
    ...scanLedger(t),
  };
}
