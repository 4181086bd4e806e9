import { createLedger } from '../../../src/adapters/dynamodb/ledger.ts';
import { HOST } from '../../helpers/factories.ts';
import { startTestStack } from '../../helpers/stack.ts';
import { describeScanClaimsContract } from '../../contracts/scan-claims.contract.ts';

// The scan page claims model (test/contracts/scan-claims.contract.ts) against the real local DynamoDB.
describeScanClaimsContract('DynamoDB (dynoxide)', async () => {
  const t = await startTestStack({
    services: ['sqs', 's3', 'dynamodb'],
    env: { ORIGIN_ALLOWED_HOSTS: HOST, SCAN_PAGE_SIZE: '2' },
  });
  return { ledger: createLedger(t.aws.ddb, t.cfg.tableName), cfg: t.cfg, log: t.log, stop: () => t.stop() };
});
