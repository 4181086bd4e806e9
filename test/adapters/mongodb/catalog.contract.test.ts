// The MongoDB adapter against the Catalog contract, on the local MongoDB-compatible server.
import { randomBytes } from 'node:crypto';
import { MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll } from 'vitest';
import { openCatalog, type MongoCatalogDocument } from '../../../src/adapters/mongodb/catalog.ts';
import { startTestStack, type TestStack } from '../../helpers/stack.ts';
import { describeCatalogContract } from '../../contracts/catalog.contract.ts';

let t: TestStack;
let client: MongoClient;

beforeAll(async () => {
  t = await startTestStack({ services: ['mongodb'] });
  client = await new MongoClient(t.env.MONGODB_URI!).connect();
}, 120_000);
afterAll(async () => {
  await client?.close();
  await t?.stop();
});

// The local server (CongoDB) stores only ObjectId `_id`s: string ids are covered by the memory adapter's run
// and by catalog.test.ts's filter tests, not here.
describeCatalogContract(
  'MongoDB adapter (local server)',
  async (docs) => {
    // A collection of its own per catalog: the contract's cases never see each other's documents.
    const collection = `contract_${randomBytes(4).toString('hex')}`;
    if (docs.length > 0)
      await client
        .db()
        .collection<MongoCatalogDocument>(collection)
        .insertMany(docs.map((d) => ({ _id: /^[0-9a-f]{24}$/.test(d.id) ? new ObjectId(d.id) : d.id, ...d.fields })));
    const catalog = await openCatalog({ mongo: { ...t.cfg.mongo, collection } });
    return { catalog, close: () => catalog.close() };
  },
  { stringIds: false },
);
