/** Catalog (MongoDB) documents describing the sample library, shaped as the scanner reads them (docs/pipeline.md; field names: CATALOG_FIELDS in docs/configuration.md). */
import { ObjectId } from 'mongodb';

export type CatalogStatus = 'scheduled' | 'live' | 'broadcast' | 'aborted';

/** One document of the `classes` collection, with the default field names. */
export interface SampleDocument {
  _id: ObjectId;
  title: string;
  /** Absolute URL of the master playlist; absent on purpose in one skipped document. */
  manifestUrl?: string;
  status: CatalogStatus;
  isTest: boolean;
  startedAt: Date;
  endedAt?: Date;
  /** When the document last changed (the incremental scan reads by it): its end, or its start. */
  updatedAt: Date;
}

/** Why a catalog document must not be transferred. */
export type SkipKind = 'test' | 'aborted' | 'no-manifest' | 'live';

/** A document the scanner must skip, and why. */
export interface SkippedClass {
  id: string;
  title: string;
  kind: SkipKind;
  reason: string;
}

/** What a catalog document is built from. */
export interface CatalogEntry {
  id: string;
  title: string;
  manifestPath: string;
  startedAt: Date;
  endedAt: Date;
}

export const SKIP_KINDS: readonly SkipKind[] = ['test', 'aborted', 'no-manifest', 'live'];

/** The human-readable reason a document of this kind is skipped. */
export function skipReason(kind: SkipKind): string {
  switch (kind) {
    case 'test':
      return 'isTest is true';
    case 'aborted':
      return "status is 'aborted'";
    case 'no-manifest':
      return 'no manifestUrl';
    case 'live':
      return "status is 'live' and there is no endedAt";
  }
}

/** Joins an origin base URL ("http://host:port" or with a path prefix) and a '/'-prefixed path. */
export function originUrl(originBaseUrl: string, path: string): string {
  let base: URL;
  try {
    base = new URL(originBaseUrl);
  } catch {
    throw new TypeError(`origin base URL must be absolute, got "${originBaseUrl}"`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new TypeError(`origin base URL must be http(s), got "${originBaseUrl}"`);
  if (base.search || base.hash)
    throw new TypeError(`origin base URL must not have a query or fragment, got "${originBaseUrl}"`);
  return `${base.origin}${base.pathname.replace(/\/+$/, '')}${path}`;
}

/** Documents for the valid classes (broadcast, ended) followed by one of each skipped kind. */
export function buildCatalogDocuments(
  originBaseUrl: string,
  valid: readonly CatalogEntry[],
  skipped: ReadonlyArray<CatalogEntry & { kind: SkipKind }>,
): SampleDocument[] {
  const docs: SampleDocument[] = valid.map((c) => ({
    _id: new ObjectId(c.id),
    title: c.title,
    manifestUrl: originUrl(originBaseUrl, c.manifestPath),
    status: 'broadcast',
    isTest: false,
    startedAt: new Date(c.startedAt),
    endedAt: new Date(c.endedAt),
    updatedAt: new Date(c.endedAt),
  }));
  for (const s of skipped) {
    const base = {
      _id: new ObjectId(s.id),
      title: s.title,
      startedAt: new Date(s.startedAt),
      updatedAt: new Date(s.kind === 'live' ? s.startedAt : s.endedAt),
    };
    // Skipped documents point at paths the origin does not serve: fetching one is itself a bug.
    const manifestUrl = originUrl(originBaseUrl, s.manifestPath);
    switch (s.kind) {
      case 'test':
        docs.push({ ...base, manifestUrl, status: 'broadcast', isTest: true, endedAt: new Date(s.endedAt) });
        break;
      case 'aborted':
        docs.push({ ...base, manifestUrl, status: 'aborted', isTest: false, endedAt: new Date(s.endedAt) });
        break;
      case 'no-manifest':
        docs.push({ ...base, status: 'broadcast', isTest: false, endedAt: new Date(s.endedAt) });
        break;
      case 'live':
        docs.push({ ...base, manifestUrl, status: 'live', isTest: false });
        break;
    }
  }
  return docs;
}
