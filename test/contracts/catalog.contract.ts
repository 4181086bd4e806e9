// The Catalog contract: what the scanner (and `flants estimate`) rely on of any class catalog, run against
// every implementation (the MongoDB adapter on the local server, the memory adapter the unit tests use).
import { describe, expect, it } from 'vitest';
import type { Catalog, CatalogDocument, ChangeCursor } from '../../src/domain/ports/catalog.ts';

/**
 * A document to seed: its class id and fields. How the id is stored is the harness's choice (MongoDB: a
 * 24-hex id as an ObjectId, anything else as a string `_id`), so both kinds of id are exercised.
 */
export interface SeedDocument {
  id: string;
  fields: Record<string, unknown>;
}

export interface CatalogHarness {
  catalog: Catalog;
  close(): Promise<void>;
}

const T0 = Date.UTC(2030, 0, 1);
const at = (s: number) => new Date(T0 + s * 1000);
const HEX = (n: number) => `65c0000000000000000000${String(n).padStart(2, '0')}`;
const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Every document of the whole catalog, page by page as the scanner reads it: each id kind in turn. */
async function readAll(catalog: Catalog, limit: number): Promise<Array<{ kind: string; page: CatalogDocument[] }>> {
  const pages: Array<{ kind: string; page: CatalogDocument[] }> = [];
  for (const kind of catalog.idKinds) {
    let after: string | undefined;
    for (let n = 0; n < 100; n++) {
      const page = await catalog.page(kind, after, limit);
      pages.push({ kind, page });
      if (page.length < limit) break;
      after = page.at(-1)!.id;
    }
  }
  return pages;
}

/**
 * Runs the contract against catalogs `make` opens over the given documents (a fresh catalog each time).
 * `stringIds: false` for a server that stores no string ids (the local CongoDB refuses any `_id` but an
 * ObjectId): the documents with other ids are left out, and every case still runs.
 */
export function describeCatalogContract(
  name: string,
  make: (docs: SeedDocument[]) => Promise<CatalogHarness>,
  opts: { stringIds?: boolean } = {},
): void {
  const storable = (docs: SeedDocument[]) =>
    opts.stringIds === false ? docs.filter((d) => /^[0-9a-f]{24}$/.test(d.id)) : docs;
  describe(`Catalog contract: ${name}`, () => {
    const withCatalog = async (docs: SeedDocument[], fn: (c: Catalog) => Promise<void>) => {
      const h = await make(storable(docs));
      try {
        await fn(h.catalog);
      } finally {
        await h.close();
      }
    };
    const seed: SeedDocument[] = [
      { id: HEX(3), fields: { title: 'three', endedAt: at(3) } },
      { id: 'lecture-b', fields: { title: 'b', endedAt: at(1) } },
      { id: HEX(1), fields: { title: 'one', endedAt: at(1) } },
      { id: 'lecture-a', fields: { title: 'a' } },
      { id: HEX(2), fields: { title: 'two', endedAt: at(2) } },
      { id: 'Lecture-c', fields: { title: 'c', endedAt: at(9) } },
    ];

    it('names at least one kind of id, each a word a scan message can carry', () =>
      withCatalog([], async (catalog) => {
        expect(catalog.idKinds.length).toBeGreaterThan(0);
        for (const kind of catalog.idKinds) expect(kind).toMatch(/^[A-Za-z][\w-]{0,31}$/);
        expect(new Set(catalog.idKinds).size).toBe(catalog.idKinds.length);
      }));

    it('reads the whole catalog kind by kind, in id order, every document once, pages of at most the limit', () =>
      withCatalog(seed, async (catalog) => {
        const pages = await readAll(catalog, 2);
        for (const { kind, page } of pages) {
          expect(page.length).toBeLessThanOrEqual(2);
          for (const d of page) expect(d.idKind).toBe(kind);
        }
        for (const kind of catalog.idKinds) {
          const ids = pages.filter((p) => p.kind === kind).flatMap((p) => p.page.map((d) => d.id));
          expect(ids).toEqual([...ids].sort(byBytes));
        }
        const all = pages.flatMap((p) => p.page.map((d) => d.id));
        expect([...all].sort()).toEqual(
          storable(seed)
            .map((d) => d.id)
            .sort(),
        );
      }));

    it('hands each document with its fields as stored, dates as Date', () =>
      withCatalog(seed, async (catalog) => {
        const all = (await readAll(catalog, 10)).flatMap((p) => p.page);
        const three = all.find((d) => d.id === HEX(3));
        expect(three?.fields).toMatchObject({ title: 'three', endedAt: at(3) });
        expect(three?.fields.endedAt).toBeInstanceOf(Date);
        expect(all.find((d) => d.id === 'lecture-a')?.fields.endedAt).toBeUndefined();
      }));

    it('finds one class by its id, whatever its kind, and answers undefined for an unknown one', () =>
      withCatalog(seed, async (catalog) => {
        expect((await catalog.get(HEX(2)))?.fields.title).toBe('two');
        if (opts.stringIds !== false)
          expect(await catalog.get('lecture-b')).toMatchObject({ id: 'lecture-b', fields: { title: 'b' } });
        expect(await catalog.get(HEX(99))).toBeUndefined();
        expect(await catalog.get('no-such-class')).toBeUndefined();
        expect(await catalog.get('lecture-B')).toBeUndefined();
      }));

    it('refuses to page a kind of id it does not have, as a message no retry can fix', () =>
      withCatalog(seed, async (catalog) => {
        await expect(catalog.page('no-such-kind', undefined, 2)).rejects.toMatchObject({ code: 'POISON_MESSAGE' });
      }));

    it('an empty catalog has empty pages of every kind', () =>
      withCatalog([], async (catalog) => {
        for (const { page } of await readAll(catalog, 2)) expect(page).toEqual([]);
      }));

    it('reads what changed since an instant, in (field, id) order, page after page through ties, each once', () => {
      // Five documents share one instant (of both id kinds), so pages of 2 end inside the tie; one is older,
      // one has no date, one a date written as text (not a date: a range of dates never matches it).
      const docs: SeedDocument[] = [
        { id: HEX(10), fields: { n: 0, updatedAt: at(0) } },
        { id: HEX(11), fields: { n: 1, updatedAt: at(1) } },
        { id: 'tie-x', fields: { n: 2, updatedAt: at(1) } },
        { id: HEX(12), fields: { n: 3, updatedAt: at(1) } },
        { id: HEX(15), fields: { n: 7, updatedAt: at(1) } },
        { id: 'tie-y', fields: { n: 4, updatedAt: at(1) } },
        { id: HEX(13), fields: { n: 5, updatedAt: at(2) } },
        { id: HEX(16), fields: { n: 6, updatedAt: at(3) } },
        { id: HEX(14), fields: { n: 98 } },
        { id: HEX(17), fields: { n: 99, updatedAt: at(2).toISOString() } },
      ];
      return withCatalog(docs, async (catalog) => {
        const seen: CatalogDocument[] = [];
        let after: ChangeCursor | undefined;
        for (let pages = 0; pages < 20; pages++) {
          const page = await catalog.changedPage('updatedAt', at(1), after, 2);
          expect(page.length).toBeLessThanOrEqual(2);
          seen.push(...page);
          if (page.length < 2) break;
          const last = page.at(-1)!;
          after = { at: last.fields.updatedAt as Date, id: last.id, idKind: last.idKind };
        }
        const expected = storable(docs)
          .filter((d) => d.fields.updatedAt instanceof Date && d.fields.updatedAt >= at(1))
          .map((d) => d.fields.n as number)
          .sort((a, b) => a - b);
        expect(seen.map((d) => d.fields.n as number).sort((a, b) => a - b)).toEqual(expected);
        const times = seen.map((d) => (d.fields.updatedAt as Date).getTime());
        expect(times).toEqual([...times].sort((a, b) => a - b));
        expect(await catalog.changedPage('updatedAt', at(4), undefined, 10)).toEqual([]);
        const last = seen.at(-1)!;
        expect(
          await catalog.changedPage('updatedAt', at(1), { at: at(3), id: last.id, idKind: last.idKind }, 10),
        ).toEqual([]);
      });
    });
  });
}
