import { MongoClient, ObjectId, type Collection, type Document } from 'mongodb';
import type { Config } from '../config.ts';
import { resolveMongoUri, type ParameterReader } from './secrets.ts';

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
      const lower = phase === 'objectId' ? (after ? new ObjectId(after) : new ObjectId('000000000000000000000000')) : (after ?? '');
      const filter = after === undefined && phase === 'objectId' ? { _id: { $gte: lower } } : { _id: { $gt: lower } };
      const docs = await collection.find(filter as Document).sort({ _id: 1 }).limit(limit).toArray();
      // Guard against servers that compare across types: keep only this phase's id type.
      return docs.filter((d) => (phase === 'objectId' ? d._id instanceof ObjectId : typeof d._id === 'string'));
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
