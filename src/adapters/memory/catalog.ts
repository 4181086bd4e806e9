// A catalog in memory: the documents unit tests scan. It pages, looks up and reads changes the way the
// MongoDB adapter does (ids of each kind apart, in id order; (field, id) order for changes), and
// test/contracts/catalog.contract.ts holds both to the same promises.
import { PoisonMessageError } from '../../errors.ts';
import type { Catalog, CatalogDocument, ChangeCursor } from '../../domain/ports/catalog.ts';

export interface MemoryCatalog extends Catalog {
  /** The documents it serves, read at every call: a test may add or change some between pages. */
  readonly documents: CatalogDocument[];
}

/** Ids in MongoDB's order for strings: by their UTF-8 bytes (an ObjectId's lower-case hex sorts as its bytes). */
const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * A catalog over `documents`. `idKinds` are the kinds of id it reads one after the other; by default
 * those of the MongoDB catalog (`objectId`, then `string`), so a scan over it sends the pages a scan
 * over MongoDB would.
 */
export function createMemoryCatalog(
  documents: CatalogDocument[],
  opts: { idKinds?: readonly string[] } = {},
): MemoryCatalog {
  const idKinds = opts.idKinds ?? ['objectId', 'string'];
  const docs = [...documents];
  const kindOrder = (d: CatalogDocument) => idKinds.indexOf(d.idKind);
  const timeOf = (d: CatalogDocument, field: string): number | undefined => {
    const v = d.fields[field];
    return v instanceof Date ? v.getTime() : undefined;
  };
  return {
    idKinds,
    documents: docs,
    page(kind, after, limit) {
      if (!idKinds.includes(kind))
        return Promise.reject(
          new PoisonMessageError(`this catalog pages ids of kind ${idKinds.join(' or ')}, not ${kind}`),
        );
      return Promise.resolve(
        docs
          .filter((d) => d.idKind === kind && (after === undefined || byBytes(d.id, after) > 0))
          .sort((a, b) => byBytes(a.id, b.id))
          .slice(0, limit),
      );
    },
    get(classId) {
      const found = docs.filter((d) => d.id === classId).sort((a, b) => kindOrder(a) - kindOrder(b));
      return Promise.resolve(found[0]);
    },
    changedPage(field, since, after: ChangeCursor | undefined, limit) {
      // Ties at one instant in (kind, id) order: each kind's ids compare only among themselves, as MongoDB's do.
      type Place = { at: number; kind: number; id: string };
      const compare = (a: Place, b: Place) => a.at - b.at || a.kind - b.kind || byBytes(a.id, b.id);
      const cursor: Place | undefined = after && {
        at: after.at.getTime(),
        kind: idKinds.indexOf(after.idKind),
        id: after.id,
      };
      const rows = docs
        .map((d) => ({ d, at: timeOf(d, field), kind: kindOrder(d), id: d.id }))
        .filter((r): r is typeof r & { at: number } => r.at !== undefined && r.at >= since.getTime())
        .filter((r) => !cursor || compare(r, cursor) > 0)
        .sort(compare);
      return Promise.resolve(rows.slice(0, limit).map((r) => r.d));
    },
    close: () => Promise.resolve(),
  };
}
