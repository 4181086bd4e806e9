/**
 * Contention on one class (issue 19): N concurrent transfers counting the chunks of one class through
 * the real ledger adapter (countChunk: one TransactWriteItems with the chunk item and the class item)
 * against the local DynamoDB, with DynamoDB's transaction conflicts emulated by
 * lab/ddb-conflict-proxy.ts (a transaction on an item in progress cancels the others on it). Prints,
 * per N: throughput, transactions sent, conflicts, chunks whose countChunk exhausted its retries (their
 * delivery fails and SQS delivers it again: emulated here by putting the chunk back), and whether the
 * class ended COMPLETE with every chunk counted exactly once. Figures, not a timed test.
 *
 *   npm run bench:contention -- [--n 10,50,200] [--chunks 1000] [--hold-ms 20] [--copy-ms 0] [--direct]
 *
 * --copy-ms: each delivery first "copies" for a uniformly random 0..2×copy-ms (0: every transfer counts
 * at once, the worst case). --max-receive-count (3, serverless.yml's): chunks needing more deliveries
 * than that would have reached the DLQ with their class FAILED (recoverable by `flants redrive`).
 * --hold-ms: how long a transaction stays "in progress" beyond the local server's own answer (DynamoDB
 * takes milliseconds where the local server takes less than one). --direct: also run without the proxy,
 * to see whether the local DynamoDB produces conflicts by itself.
 */
import { parseArgs } from 'node:util';
import { startDdbConflictProxy, type ConflictProxy } from '../lab/ddb-conflict-proxy.ts';
import { startLocalStack } from '../lab/stack.ts';
import { loadConfig } from '../src/config.ts';
import { setupResources } from '../src/ops/setup.ts';
import { loadServiceDefinition } from '../src/ops/service-definition.ts';
import { createAwsClients } from '../src/wiring/aws-clients.ts';
import { createLedger } from '../src/adapters/dynamodb/ledger.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '10,50,200' },
    chunks: { type: 'string', default: '1000' },
    'hold-ms': { type: 'string', default: '20' },
    direct: { type: 'boolean', default: false },
    'copy-ms': { type: 'string', default: '0' },
    'max-receive-count': { type: 'string', default: '3' },
  },
});

interface Figures {
  label: string;
  n: number;
  chunks: number;
  seconds: number;
  transactions: number;
  conflicts: number;
  exhausted: number;
  redeliveries: number;
  maxDeliveries: number;
  /** Chunks that needed more deliveries than maxReceiveCount: on AWS, FAILED and in the DLQ. */
  beyondReceiveCount: number;
  complete: boolean;
  doneChunks: number;
}

async function main(): Promise<void> {
  const chunks = Number(values.chunks);
  const holdMs = Number(values['hold-ms']);
  const copyMs = Number(values['copy-ms']);
  const maxReceiveCount = Number(values['max-receive-count']);
  const ns = values.n.split(',').map(Number);
  const stack = await startLocalStack(['sqs', 's3', 'dynamodb']);
  const env = { ...process.env, ...stack.env, FLANTS_STAGE: 'contention', FLANTS_LOG_LEVEL: 'silent' };
  const cfg = loadConfig(env);
  const admin = createAwsClients(cfg);
  await setupResources(cfg, loadServiceDefinition('contention'), admin);
  const out: Figures[] = [];
  try {
    for (const mode of values.direct ? (['direct', 'emulated'] as const) : (['emulated'] as const)) {
      for (const n of ns) {
        let proxy: ConflictProxy | undefined;
        if (mode === 'emulated') proxy = await startDdbConflictProxy(stack.endpoints.dynamodb!, { holdMs });
        const runCfg = loadConfig({ ...env, AWS_ENDPOINT_URL_DYNAMODB: proxy?.url ?? stack.endpoints.dynamodb! });
        const aws = createAwsClients(runCfg, { maxSockets: Math.max(64, n) });
        // Counts what reaches DynamoDB without the proxy too: every TransactWriteItems and its failures.
        let transactions = 0;
        let conflicts = 0;
        aws.ddb.middlewareStack.add(
          (next, context) => async (args) => {
            if (context.commandName !== 'TransactWriteItemsCommand') return next(args);
            transactions++;
            try {
              return await next(args);
            } catch (err) {
              const reasons = (err as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons ?? [];
              if (reasons.some((r) => r.Code === 'TransactionConflict')) conflicts++;
              throw err;
            }
          },
          { step: 'initialize', name: 'benchCountTransactions' },
        );
        const ledger = createLedger(aws.ddb, runCfg.tableName);
        const classId = `contention-${mode}-${n}-${Date.now()}`;
        await ledger.markCrawling(classId, { manifestUrl: 'https://origin.invalid/master.m3u8' });
        const { gen } = await ledger.recordPlan(classId, {
          planId: 'c0ffee00c0ffee00',
          totalFiles: chunks,
          totalChunks: chunks,
        });
        // The transfer queue: chunks waiting for a delivery; a failed delivery goes back (SQS redelivers).
        const queue = Array.from({ length: chunks }, (_, i) => i);
        const deliveries = new Map<number, number>();
        let exhausted = 0;
        const started = performance.now();
        await Promise.all(
          Array.from({ length: n }, async () => {
            for (let chunk = queue.shift(); chunk !== undefined; chunk = queue.shift()) {
              deliveries.set(chunk, (deliveries.get(chunk) ?? 0) + 1);
              if (copyMs > 0) await new Promise((r) => setTimeout(r, Math.random() * 2 * copyMs));
              const file = { key: `c/${classId}/seg-${chunk}.ts`, bytes: 1000, etag: 'e' };
              try {
                await ledger.countChunk(classId, gen, chunk, [file]);
              } catch {
                exhausted++;
                queue.push(chunk);
              }
            }
          }),
        );
        const seconds = (performance.now() - started) / 1000;
        const rec = await ledger.getClass(classId);
        const f: Figures = {
          label:
            (mode === 'emulated' ? `conflicts emulated (${holdMs} ms in progress)` : 'local DynamoDB alone') +
            (copyMs > 0 ? `, copies of 0-${2 * copyMs} ms` : ''),
          n,
          chunks,
          seconds,
          transactions,
          conflicts,
          exhausted,
          redeliveries: [...deliveries.values()].reduce((s, d) => s + d - 1, 0),
          maxDeliveries: Math.max(...deliveries.values()),
          beyondReceiveCount: [...deliveries.values()].filter((d) => d > maxReceiveCount).length,
          complete: rec?.status === 'COMPLETE',
          doneChunks: rec?.doneChunks ?? 0,
        };
        out.push(f);
        process.stdout.write(
          `${f.label}, N=${n}: ${chunks} chunks in ${seconds.toFixed(1)} s (${(chunks / seconds).toFixed(0)} chunks/s); ` +
            `${transactions} transactions, ${conflicts} cancelled for a conflict (${((100 * conflicts) / transactions).toFixed(1)} %); ` +
            `${exhausted} countChunk calls exhausted their retries (redelivered; most deliveries of one chunk: ${f.maxDeliveries}, ` +
            `${f.beyondReceiveCount} chunk(s) beyond ${maxReceiveCount} deliveries); ` +
            `class ${rec?.status} with ${f.doneChunks}/${chunks} chunks counted\n`,
        );
        if (!f.complete || f.doneChunks !== chunks) process.exitCode = 1;
        aws.destroy();
        await proxy?.close();
      }
    }
  } finally {
    admin.destroy();
    await stack.stop();
  }
  process.stdout.write(
    `\n| N | chunks/s | transactions | conflicts | exhausted retries (redelivered) | chunks beyond ${maxReceiveCount} deliveries | COMPLETE, counted once |\n`,
  );
  process.stdout.write('|---|---|---|---|---|---|---|\n');
  for (const f of out)
    process.stdout.write(
      `| ${f.n}${f.label.startsWith('local') ? ' (local DynamoDB alone)' : ''} | ${(f.chunks / f.seconds).toFixed(0)} | ${f.transactions} | ${f.conflicts} (${((100 * f.conflicts) / f.transactions).toFixed(1)} %) | ${f.exhausted} | ${f.beyondReceiveCount} | ${f.complete && f.doneChunks === f.chunks ? `yes, ${f.doneChunks}/${f.chunks}` : `NO, ${f.doneChunks}/${f.chunks}`} |\n`,
    );
}

await main();
