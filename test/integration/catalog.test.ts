import { MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openCatalog, type Catalog } from '../../src/store/catalog.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

let t: TestStack;
let client: MongoClient;
let catalog: Catalog;
const ids = Array.from({ length: 7 }, (_, i) => new ObjectId(`65a0000000000000000000${String(i).padStart(2, '0')}`));

beforeAll(async () => {
  t = await startTestStack({ services: ['mongodb'] });
  client = await new MongoClient(t.env.MONGODB_URI!).connect();
  await client
    .db()
    .collection('classes')
    .insertMany(ids.map((_id, i) => ({ _id, title: `class ${i}`, status: 'broadcast', manifestUrl: `http://o/${i}/m.m3u8`, endedAt: new Date() })));
  catalog = await openCatalog(t.cfg);
});
afterAll(async () => {
  await client?.close();
  await catalog?.close();
  await t?.stop();
});

describe('MongoDB catalog (CongoDB)', () => {
  it('pages through ObjectId classes in _id order without gaps or repeats', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await catalog.page('objectId', after, 3);
      seen.push(...page.map((d) => (d._id as ObjectId).toHexString()));
      if (page.length < 3) break;
      after = (page.at(-1)!._id as ObjectId).toHexString();
    }
    expect(seen).toEqual(ids.map((i) => i.toHexString()));
    expect(await catalog.page('string', undefined, 3)).toEqual([]);
  });

  it('finds a class by its id, and reports an unknown one as missing', async () => {
    expect((await catalog.get(ids[2]!.toHexString()))?.title).toBe('class 2');
    expect(await catalog.get('65a0000000000000000000ff')).toBeUndefined();
    expect(await catalog.get('no-such-class')).toBeUndefined();
  });

  it('reads the database from the URI path and the collection from MONGODB_COLLECTION', async () => {
    await client.db().collection('lectures').insertOne({ _id: new ObjectId(), title: 'elsewhere' });
    const other = await openCatalog(loadConfig({ ...process.env, ...t.env, MONGODB_COLLECTION: 'lectures' }));
    const page = await other.page('objectId', undefined, 10);
    expect(page.map((d) => d.title)).toEqual(['elsewhere']);
  });
});
