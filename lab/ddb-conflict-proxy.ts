/**
 * A proxy in front of the local DynamoDB that adds what it does not do by itself: DynamoDB's
 * transaction conflicts (AWS's "Transaction conflict handling in DynamoDB"). While a
 * TransactWriteItems is in progress on an item:
 *   - another TransactWriteItems that includes the item is cancelled: 400 TransactionCanceledException,
 *     its CancellationReasons naming `TransactionConflict` for that item (`None` for the others);
 *   - a PutItem, UpdateItem or DeleteItem of the item is refused: 400 TransactionConflictException.
 * dynoxide serialises writes instead (measured: no conflict under 200 concurrent transactions on one
 * item; see docs/SCALE.md). A transaction is "in progress" from when it reaches the proxy until its
 * answer is back, plus `holdMs`: the local server answers in a fraction of a millisecond where
 * DynamoDB takes milliseconds, and the window is what makes transactions meet.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ConflictProxyStats {
  transactions: number;
  /** Transactions cancelled for a conflict. */
  cancelled: number;
  /** Single-item writes refused for a transaction in progress on their item. */
  refused: number;
  forwarded: number;
}

export interface ConflictProxy {
  url: string;
  stats: ConflictProxyStats;
  /** While true, every TransactWriteItems is cancelled as if another were in progress on its items. */
  conflictAll: boolean;
  close(): Promise<void>;
}

type AttributeValue = Record<string, unknown>;
type TransactItem = Record<string, { TableName?: string; Key?: AttributeValue; Item?: AttributeValue }>;

/** An item's identity: table and the key attributes (FLAnts' table keys on pk and sk). */
function itemId(table: string | undefined, attrs: AttributeValue | undefined): string {
  const key = attrs ? { pk: attrs.pk, sk: attrs.sk } : {};
  return `${table ?? ''}|${JSON.stringify(key)}`;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startDdbConflictProxy(upstream: string, opts: { holdMs?: number } = {}): Promise<ConflictProxy> {
  const target = new URL(upstream);
  const holdMs = opts.holdMs ?? 0;
  const stats: ConflictProxyStats = { transactions: 0, cancelled: 0, refused: 0, forwarded: 0 };
  /** Items with a transaction in progress, and how many (a cancelled one never registers). */
  const busy = new Map<string, number>();

  const forward = (
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: target.host };
      const up = httpRequest(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers },
        (res) => {
          void readBody(res).then(
            (b) => resolve({ status: res.statusCode ?? 500, headers: res.headers as Record<string, string>, body: b }),
            reject,
          );
        },
      );
      up.on('error', reject);
      up.end(body);
    });

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const op = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const reply = (status: number, json: unknown) =>
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(json));
      let mine: string[] = [];
      if (op === 'TransactWriteItems') {
        stats.transactions++;
        const input = JSON.parse(body.toString('utf8')) as { TransactItems?: TransactItem[] };
        const ids = (input.TransactItems ?? []).map((t) => {
          const [action] = Object.values(t);
          return itemId(action?.TableName, action?.Key ?? action?.Item);
        });
        const conflicted = ids.map((id) => proxy.conflictAll || (busy.get(id) ?? 0) > 0);
        if (conflicted.some(Boolean)) {
          stats.cancelled++;
          return reply(400, {
            __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
            message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${conflicted.map((c) => (c ? 'TransactionConflict' : 'None')).join(', ')}]`,
            CancellationReasons: conflicted.map((c) =>
              c ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' } : { Code: 'None' },
            ),
          });
        }
        mine = ids;
        for (const id of mine) busy.set(id, (busy.get(id) ?? 0) + 1);
      } else if (op === 'PutItem' || op === 'UpdateItem' || op === 'DeleteItem') {
        const input = JSON.parse(body.toString('utf8')) as {
          TableName?: string;
          Key?: AttributeValue;
          Item?: AttributeValue;
        };
        if ((busy.get(itemId(input.TableName, input.Key ?? input.Item)) ?? 0) > 0) {
          stats.refused++;
          return reply(400, {
            __type: 'com.amazonaws.dynamodb.v20120810#TransactionConflictException',
            message: 'Transaction is ongoing for the item',
          });
        }
      }
      try {
        if (mine.length && holdMs > 0) await sleep(holdMs);
        const out = await forward(req, body);
        stats.forwarded++;
        res.writeHead(out.status, out.headers).end(out.body);
      } finally {
        for (const id of mine) {
          const n = (busy.get(id) ?? 1) - 1;
          if (n <= 0) busy.delete(id);
          else busy.set(id, n);
        }
      }
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(502).end(String(err));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const proxy: ConflictProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats,
    conflictAll: false,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return proxy;
}
