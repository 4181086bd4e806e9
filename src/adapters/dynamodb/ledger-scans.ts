/**
 * A scan's bookkeeping in the ledger's table, apart from the classes: page claims (`SCAN#<scanId>`,
 * `CLAIM#<page>`: which message holds a page), page records (`PAGE#<page>`: what each page decided),
 * and the watermark of scheduled scans (`SCAN#watermark`). Items expire after 30 days.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ScanPageRecord } from '../../domain/ledger/records.ts';
import type { ScanLedger } from '../../domain/ports/ledger.ts';
import { isConditionFailed } from './errors.ts';
import { now, watermarkKey } from './ledger-codec.ts';
import { boundedScanLists } from './ledger-items.ts';
import type { LedgerTable } from './ledger-table.ts';

export function scanLedger(t: Pick<LedgerTable, 'ddb' | 'table' | 'queryAll'>): ScanLedger {
  return {
    async claimScanPage(scanId, page, holder) {
      try {
        await t.ddb.send(
          new PutCommand({
            TableName: t.table,
            Item: {
              pk: `SCAN#${scanId}`,
              sk: `CLAIM#${page}`,
              by: holder,
              at: now(),
              expiresAt: Math.floor(Date.now() / 1000) + 30 * 24 * 3600,
            },
            ConditionExpression: 'attribute_not_exists(pk) OR (#by = :me AND attribute_not_exists(done))',
            ExpressionAttributeNames: { '#by': 'by' },
            ExpressionAttributeValues: { ':me': holder },
          }),
        );
        return 'claimed';
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
        const res = await t.ddb.send(
          new GetCommand({
            TableName: t.table,
            Key: { pk: `SCAN#${scanId}`, sk: `CLAIM#${page}` },
            ConsistentRead: true,
          }),
        );
        return res.Item?.by === holder ? 'done' : 'taken';
      }
    },

    async finishScanPage(scanId, page) {
      await t.ddb.send(
        new UpdateCommand({
          TableName: t.table,
          Key: { pk: `SCAN#${scanId}`, sk: `CLAIM#${page}` },
          UpdateExpression: 'SET done = :t',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':t': true },
        }),
      );
    },

    async recordScanPage(page) {
      // Kept for 30 days: enough to answer questions about recent scans without growing forever.
      const expiresAt = Math.floor(Date.now() / 1000) + 30 * 24 * 3600;
      // A page of up to SCAN_PAGE_SIZE classes lists what fits its item (docs/ledger.md, "Item size budget").
      const lists = boundedScanLists(page.enqueued, page.skipped);
      await t.ddb.send(
        new PutCommand({
          TableName: t.table,
          Item: {
            pk: `SCAN#${page.scanId}`,
            sk: `PAGE#${page.page}`,
            ...page,
            skipped: lists.skipped,
            ...(lists.skippedNotListed ? { skippedNotListed: lists.skippedNotListed } : {}),
            enqueued: lists.enqueued,
            ...(lists.enqueuedNotListed ? { enqueuedNotListed: lists.enqueuedNotListed } : {}),
            expiresAt,
          },
        }),
      );
    },

    async getWatermark(fields) {
      const res = await t.ddb.send(
        new GetCommand({ TableName: t.table, Key: watermarkKey(fields), ConsistentRead: true }),
      );
      return typeof res.Item?.at === 'string' ? res.Item.at : undefined;
    },

    async advanceWatermark(fields, at, scanId) {
      try {
        await t.ddb.send(
          new UpdateCommand({
            TableName: t.table,
            Key: watermarkKey(fields),
            UpdateExpression: 'SET #at = :at, scanId = :scan, updatedAt = :now',
            // Only forward: a slow scan that started earlier finishing late never moves it back.
            ConditionExpression: 'attribute_not_exists(#at) OR #at < :at',
            ExpressionAttributeNames: { '#at': 'at' },
            ExpressionAttributeValues: { ':at': at, ':scan': scanId, ':now': now() },
          }),
        );
        return true;
      } catch (err) {
        if (isConditionFailed(err)) return false;
        throw err;
      }
    },

    async getScan(scanId) {
      const items = await t.queryAll(`SCAN#${scanId}`, 'PAGE#');
      return items.map((i) => ({
        scanId,
        page: String(i.page),
        at: String(i.at),
        scanned: Number(i.scanned),
        enqueued: (i.enqueued as string[]) ?? [],
        skipped: (i.skipped as ScanPageRecord['skipped']) ?? [],
      }));
    },
  };
}
