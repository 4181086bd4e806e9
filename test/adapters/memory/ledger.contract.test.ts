import { memoryLedger } from '../../../src/adapters/memory/ledger.ts';
import { describeLedgerContract } from '../../contracts/ledger.contract.ts';

// The in-memory ledger held to the same contract as the DynamoDB adapter: the unit tests' ledger cannot drift.
describeLedgerContract('memory', () => {
  const ledger = memoryLedger();
  return Promise.resolve({ ledger, wipe: (classId) => Promise.resolve(ledger.wipe(classId)) });
});
