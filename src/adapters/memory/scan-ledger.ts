// The in-memory ledger's scan bookkeeping: page claims, scan pages and the catalog watermark, with
// the DynamoDB adapter's conditions (a claim held by one message, a watermark that only moves forward).
import { FlantsError } from '../../errors.ts';
import type { ScanPageRecord } from '../../domain/ledger/records.ts';
import type { ScanLedger } from '../../domain/ports/ledger.ts';

export function memoryScanLedger(): ScanLedger {
  const claims = new Map<string, { by: string; done: boolean }>();
  const pages = new Map<string, Map<string, ScanPageRecord>>();
  const watermarks = new Map<string, string>();
  const claimKey = (scanId: string, page: string) => `${scanId}\n${page}`;
  return {
    claimScanPage: (scanId, page, holder) => {
      const claim = claims.get(claimKey(scanId, page));
      // The first holder, and the same holder again while the page is unfinished (its redelivery).
      if (!claim || (claim.by === holder && !claim.done)) {
        claims.set(claimKey(scanId, page), { by: holder, done: false });
        return Promise.resolve('claimed');
      }
      return Promise.resolve(claim.by === holder ? 'done' : 'taken');
    },

    finishScanPage: (scanId, page) => {
      const claim = claims.get(claimKey(scanId, page));
      if (!claim)
        return Promise.reject(
          new FlantsError(
            'LEDGER_STATE',
            `scan ${scanId} page ${page} was never claimed: claim a page before finishing it`,
          ),
        );
      claim.done = true;
      return Promise.resolve();
    },

    recordScanPage: (page) => {
      if (!pages.has(page.scanId)) pages.set(page.scanId, new Map());
      pages.get(page.scanId)!.set(page.page, structuredClone(page));
      return Promise.resolve();
    },

    getScan: (scanId) =>
      Promise.resolve(
        [...(pages.get(scanId)?.values() ?? [])]
          // In the order of their keys, as a query of the scan's partition returns them.
          .sort((a, b) => (a.page < b.page ? -1 : a.page > b.page ? 1 : 0))
          .map((p) => structuredClone(p)),
      ),

    getWatermark: (fields) => Promise.resolve(watermarks.get(fields)),

    advanceWatermark: (fields, at) => {
      const was = watermarks.get(fields);
      // Only forward: a slow scan that started earlier finishing late never moves it back.
      if (was !== undefined && !(was < at)) return Promise.resolve(false);
      watermarks.set(fields, at);
      return Promise.resolve(true);
    },
  };
}
