import { MongoClient, ObjectId, type Collection, type Document } from 'mongodb';
import type { Config } from '../../config.ts';
// eslint-disable-next-line no-restricted-imports -- DEBT (issue 20, neutral ports): the wiring should resolve the secret and hand the catalog its URI
import { resolveMongoUri, type ParameterReader } from '../ssm/secrets.ts';

/** A catalog document as stored: `_id` is an ObjectId in most catalogs, sometimes a string. */
export type CatalogDocument = Document & { _id: ObjectId | string };

/** Which `_id` type a page walks: ObjectIds first, then string ids (MongoDB compares within a type). */
export type IdPhase = 'objectId' | 'string';

/** What the scanner needs of the catalog. */
export interface Catalog {
  /** Documents of one id type with `_id` greater than `after`, in `_id` order. */
  page(phase: IdPhase, after: string | undefined, limit: number): Promise<CatalogDocument[]>;
  /** The document whose class id (ObjectId hex or string `_id`) is `classId`. */
  get(classId: string): Promise<CatalogDocument | undefined>;
  /** Closes the connection. */
  close(): Promise<void>;
  /**
   * Documents whose date `field` is at or after `since`, in (`field`, `_id`) order, after `after`:
   * one range read of the index on (`field`, `_id`), whatever the catalog's size.
   */
  changedPage(field: string, since: Date, after: ChangeCursor | undefined, limit: number): Promise<CatalogDocument[]>;
}

/** Where an incremental page ended: the last document's change time and id (and whether that id is an ObjectId). */
export interface ChangeCursor {
  at: Date;
  id: string;
  oid: boolean;
}

/** The ObjectId below every other: `{ _id: { $gte: MIN_OID } }` matches exactly the ObjectId ids. */
const MIN_OID = '000000000000000000000000';

/** The filter of an incremental page: at or after `since`, and after the cursor in (`field`, `_id`) order. */
export function changedFilter(field: string, since: Date, after: ChangeCursor | undefined): Document {
  const from = { [field]: { $gte: since } };
  if (!after) return from;
  const id = after.oid ? new ObjectId(after.id) : after.id;
  const ties: Document[] = [{ [field]: after.at, _id: { $gt: id } }];
  // MongoDB orders string ids before ObjectIds and compares within a type: after a string id, every ObjectId of that instant is still to come.
  if (!after.oid) ties.push({ [field]: after.at, _id: { $gte: new ObjectId(MIN_OID) } });
  return { $and: [from, { $or: [{ [field]: { $gt: after.at } }, ...ties] }] };
}

/** The class id FLAnts uses everywhere: the hex of an ObjectId, or the string `_id` itself. */
export function classIdOf(id: unknown): string | undefined {
  if (id instanceof ObjectId) return id.toHexString();
  if (typeof id === 'string') return id;
  return undefined;
}

/**
 * MongoDB-backed Catalog for the configured URI, database and collection. It owns its client:
 * whoever opens it closes it (a warm Lambda container keeps it open across invocations).
 */
export async function openCatalog(cfg: Config, reader?: ParameterReader): Promise<Catalog> {
  const uri = await resolveMongoUri(cfg, reader);
  const client = await new MongoClient(uri, { serverSelectionTimeoutMS: 10_000, maxPoolSize: 5 }).connect();
  const db = client.db(cfg.mongo.db);
  const collection: Collection<CatalogDocument> = db.collection(cfg.mongo.collection);
  return {
    async page(phase, after, limit) {
      const lower =
        phase === 'objectId' ? (after ? new ObjectId(after) : new ObjectId('000000000000000000000000')) : (after ?? '');
      const filter = after === undefined && phase === 'objectId' ? { _id: { $gte: lower } } : { _id: { $gt: lower } };
      const docs = await collection
        .find(filter as Document)
        .sort({ _id: 1 })
        .limit(limit)
        .toArray();
      // Guard against servers that compare across types: keep only this phase's id type.
      return docs.filter((d) => (phase === 'objectId' ? d._id instanceof ObjectId : typeof d._id === 'string'));
    },
    async changedPage(field, since, after, limit) {
      return collection
        .find(changedFilter(field, since, after))
        .sort({ [field]: 1, _id: 1 })
        .limit(limit)
        .toArray();
    },
    async get(classId) {
      const ids: Array<ObjectId | string> = [classId];
      if (/^[0-9a-f]{24}$/i.test(classId)) ids.unshift(new ObjectId(classId));
      for (const id of ids) {
        const doc = await collection.findOne({ _id: id } as Document);
        if (doc) return doc;
      }
      return undefined;
    },
    async close() {
      await client.close();
    },
  };
}
