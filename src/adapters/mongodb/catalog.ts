import { MongoClient, ObjectId, type Collection, type Document } from 'mongodb';
import type { Config } from '../../config.ts';
import { ConfigError, PoisonMessageError } from '../../errors.ts';
import type { Catalog, CatalogDocument, ChangeCursor } from '../../domain/ports/catalog.ts';

/** A catalog document as MongoDB stores it: `_id` is an ObjectId in most catalogs, sometimes a string. */
export type MongoCatalogDocument = Document & { _id: ObjectId | string };

/** MongoDB compares `_id`s within a BSON type: a read of the whole catalog walks ObjectIds, then string ids. */
export const MONGO_ID_KINDS = ['objectId', 'string'] as const;
/** Which `_id` type a page walks. */
export type IdPhase = (typeof MONGO_ID_KINDS)[number];

/** The ObjectId below every other: `{ _id: { $gte: MIN_OID } }` matches exactly the ObjectId ids. */
const MIN_OID = '000000000000000000000000';

/** The filter of an incremental page: at or after `since`, and after the cursor in (`field`, `_id`) order. */
export function changedFilter(field: string, since: Date, after: ChangeCursor | undefined): Document {
  const from = { [field]: { $gte: since } };
  if (!after) return from;
  const oid = after.idKind === 'objectId';
  const id = oid ? new ObjectId(after.id) : after.id;
  const ties: Document[] = [{ [field]: after.at, _id: { $gt: id } }];
  // MongoDB orders string ids before ObjectIds and compares within a type: after a string id, every ObjectId of that instant is still to come.
  if (!oid) ties.push({ [field]: after.at, _id: { $gte: new ObjectId(MIN_OID) } });
  return { $and: [from, { $or: [{ [field]: { $gt: after.at } }, ...ties] }] };
}

/** The class id FLAnts uses everywhere: the hex of an ObjectId, or the string `_id` itself. */
export function classIdOf(id: unknown): string | undefined {
  if (id instanceof ObjectId) return id.toHexString();
  if (typeof id === 'string') return id;
  return undefined;
}

/** A stored document as the port's: the class id as a string, its id kind, the other fields. */
export function toCatalogDocument(raw: Document): CatalogDocument {
  const { _id, ...fields } = raw;
  const idKind = _id instanceof ObjectId ? 'objectId' : typeof _id === 'string' ? 'string' : typeof _id;
  return { id: classIdOf(_id) ?? String(_id), idKind, fields };
}

/**
 * MongoDB-backed Catalog for the configured database and collection at `uri` (the wiring resolves it:
 * MONGODB_URI, or the SSM parameter MONGODB_URI_SSM_PARAM names). It owns its client: whoever opens it
 * closes it (a warm Lambda container keeps it open across invocations).
 */
export async function openCatalog(cfg: Pick<Config, 'mongo'>, uri = cfg.mongo.uri): Promise<Catalog> {
  if (!uri) throw new ConfigError('MONGODB_URI is required to read the class catalog (resolved by the wiring)');
  const client = await new MongoClient(uri, { serverSelectionTimeoutMS: 10_000, maxPoolSize: 5 }).connect();
  const db = client.db(cfg.mongo.db);
  const collection: Collection<MongoCatalogDocument> = db.collection(cfg.mongo.collection);
  return {
    idKinds: MONGO_ID_KINDS,
    async page(phase, after, limit) {
      if (phase !== 'objectId' && phase !== 'string')
        throw new PoisonMessageError(`the MongoDB catalog pages ids of kind objectId or string, not ${phase}`);
      const lower = phase === 'objectId' ? (after ? new ObjectId(after) : new ObjectId(MIN_OID)) : (after ?? '');
      const filter = after === undefined && phase === 'objectId' ? { _id: { $gte: lower } } : { _id: { $gt: lower } };
      const docs = await collection
        .find(filter as Document)
        .sort({ _id: 1 })
        .limit(limit)
        .toArray();
      // Guard against servers that compare across types: keep only this phase's id type.
      return docs
        .filter((d) => (phase === 'objectId' ? d._id instanceof ObjectId : typeof d._id === 'string'))
        .map(toCatalogDocument);
    },
    async changedPage(field, since, after, limit) {
      const docs = await collection
        .find(changedFilter(field, since, after))
        .sort({ [field]: 1, _id: 1 })
        .limit(limit)
        .toArray();
      return docs.map(toCatalogDocument);
    },
    async get(classId) {
      const ids: Array<ObjectId | string> = [classId];
      if (/^[0-9a-f]{24}$/i.test(classId)) ids.unshift(new ObjectId(classId));
      for (const id of ids) {
        const doc = await collection.findOne({ _id: id } as Document);
        if (doc) return toCatalogDocument(doc);
      }
      return undefined;
    },
    async close() {
      await client.close();
    },
  };
}
