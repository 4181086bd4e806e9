// The class catalog as the scanner sees it: the port every catalog implements (src/adapters/mongodb is the
// MongoDB one, src/adapters/memory the one unit tests use; both pass test/contracts/catalog.contract.ts).
// Neutral values only: class ids are strings, a document is its fields by name, and the catalog's id order
// is named by the catalog itself (`idKinds`), opaque to the pipeline and carried by scan messages.

/** One catalog document: its class id as a string, which of the catalog's id kinds it has, and its fields. */
export interface CatalogDocument {
  /** The class id FLAnts uses everywhere (MongoDB: an ObjectId's hex, or a string `_id` as it is). */
  readonly id: string;
  /** Which of the catalog's `idKinds` the id is of: a page of the whole catalog reads one kind. */
  readonly idKind: string;
  /** The document's fields by name (dates as Date); which are the title, status, … is `CatalogFields`. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Where an incremental page ended: the last document's change time, id and id kind. */
export interface ChangeCursor {
  at: Date;
  id: string;
  idKind: string;
}

/** What the scanner needs of the catalog. */
export interface Catalog {
  /**
   * The kinds of id a read of the whole catalog walks, one after the other, in this order (MongoDB
   * orders ObjectIds and string ids apart: `['objectId', 'string']`); a catalog of one id type has one.
   */
  readonly idKinds: readonly string[];
  /** Documents whose id is of `idKind` and greater than `after`, in id order, at most `limit`. */
  page(idKind: string, after: string | undefined, limit: number): Promise<CatalogDocument[]>;
  /** The document whose class id is `classId`, whatever its kind. */
  get(classId: string): Promise<CatalogDocument | undefined>;
  /**
   * Documents whose date `field` is at or after `since`, in (`field`, id) order, after `after`, at most
   * `limit`: one range read of an index on (`field`, id), whatever the catalog's size.
   */
  changedPage(field: string, since: Date, after: ChangeCursor | undefined, limit: number): Promise<CatalogDocument[]>;
  /** Closes the connection. */
  close(): Promise<void>;
}
