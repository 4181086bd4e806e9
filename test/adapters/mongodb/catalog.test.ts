import { MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import { changedFilter, openCatalog } from '../../../src/adapters/mongodb/catalog.ts';
import type { Catalog, ChangeCursor } from '../../../src/domain/ports/catalog.ts';
import { startTestStack, type TestStack } from '../../helpers/stack.ts';

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
    .insertMany(
      ids.map((_id, i) => ({
        _id,
        title: `class ${i}`,
        status: 'broadcast',
        manifestUrl: `http://o/${i}/m.m3u8`,
        endedAt: new Date(),
      })),
    );
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
      seen.push(...page.map((d) => d.id));
      if (page.length < 3) break;
      after = page.at(-1)!.id;
    }
    expect(seen).toEqual(ids.map((i) => i.toHexString()));
    expect(await catalog.page('string', undefined, 3)).toEqual([]);
  });

  it('finds a class by its id, and reports an unknown one as missing', async () => {
    expect((await catalog.get(ids[2]!.toHexString()))?.fields.title).toBe('class 2');
    expect(await catalog.get('65a0000000000000000000ff')).toBeUndefined();
    expect(await catalog.get('no-such-class')).toBeUndefined();
  });

  it('reads the database from the URI path and the collection from MONGODB_COLLECTION', async () => {
    await client.db().collection('lectures').insertOne({ _id: new ObjectId(), title: 'elsewhere' });
    const other = await openCatalog(loadConfig({ ...process.env, ...t.env, MONGODB_COLLECTION: 'lectures' }));
    const page = await other.page('objectId', undefined, 10);
    expect(page.map((d) => d.fields.title)).toEqual(['elsewhere']);
  });

  it('reads only documents changed since an instant, page by page in (field, _id) order, ties across pages included', async () => {
    const t0 = Date.UTC(2030, 0, 1);
    const col = client.db().collection('changes');
    // Three documents share one instant, so a page of 2 ends inside the tie; one is older; one has no date at all.
    const docs = [0, 1, 1, 1, 2, 3].map((s, i) => ({
      _id: new ObjectId(`65b0000000000000000000${String(i).padStart(2, '0')}`),
      n: i,
      updatedAt: new Date(t0 + s * 1000),
    }));
    await col.insertMany([...docs, { _id: new ObjectId('65b00000000000000000ffff'), n: 99 }]);
    const changes = await openCatalog(loadConfig({ ...process.env, ...t.env, MONGODB_COLLECTION: 'changes' }));
    const seen: number[] = [];
    let after: ChangeCursor | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await changes.changedPage('updatedAt', new Date(t0 + 1000), after, 2);
      seen.push(...page.map((d) => d.fields.n as number));
      if (page.length < 2) break;
      const last = page.at(-1)!;
      after = { at: last.fields.updatedAt as Date, id: last.id, idKind: last.idKind };
    }
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(await changes.changedPage('updatedAt', new Date(t0 + 4000), undefined, 10)).toEqual([]);
  });

  it('after a string id, the rest of that instant includes every ObjectId (MongoDB orders strings first)', () => {
    const at = new Date(0);
    const cursor = (oid: boolean): ChangeCursor => ({
      at,
      id: oid ? '65b000000000000000000001' : 'lecture-7',
      idKind: oid ? 'objectId' : 'string',
    });
    const ties = (f: ReturnType<typeof changedFilter>) => (f.$and as Array<{ $or?: unknown[] }>)[1]!.$or!.length;
    expect(ties(changedFilter('updatedAt', at, cursor(true)))).toBe(2);
    expect(ties(changedFilter('updatedAt', at, cursor(false)))).toBe(3);
    expect(changedFilter('updatedAt', at, undefined)).toEqual({ updatedAt: { $gte: at } });
  });
});
