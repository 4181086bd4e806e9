import { memoryLedger } from '../../../src/adapters/memory/ledger.ts';
import { quietLog, testConfig } from '../../helpers/factories.ts';
import { describeScanClaimsContract } from '../../contracts/scan-claims.contract.ts';

// The in-memory ledger held to the scan page claims model the DynamoDB adapter passes.
describeScanClaimsContract('memory', () =>
  Promise.resolve({ ledger: memoryLedger(), cfg: testConfig({ SCAN_PAGE_SIZE: '2' }), log: quietLog() }),
);
