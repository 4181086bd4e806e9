import type { CatalogFields } from '../vocabulary.ts';
import { isHostAllowed } from '../origin/hosts.ts';
import type { CatalogDocument } from '../ports/catalog.ts';

// The end-date rule is applied where the date is used (crawler, ledger), which must not load MongoDB: it lives in its own module.
export { judgeEndedAt, type EndedAtVerdict } from '../lifecycle/class-dates.ts';

/** A catalog class that is ready to copy. */
export interface ReadyClass {
  classId: string;
  title: string;
  manifestUrl: string;
  /**
   * When the class ended (ISO), as the catalog says: playlists still growing after it get a grace
   * period from here. Passed on as it is, even when implausible (`judgeEndedAt`): the crawler and the
   * ledger judge it, so that the class's record can say why its date was not believed.
   */
  endedAt: string;
}

/** Why a class is not copied; the scan's summary counts these. */
export type SkipReason =
  | 'test class'
  | 'aborted'
  | 'not broadcast yet'
  | 'missing manifestUrl'
  | 'invalid manifestUrl'
  | 'manifest host not allowed'
  | 'missing endedAt'
  | 'invalid id';

export type Verdict =
  { ok: true; cls: ReadyClass } | { ok: false; classId: string; reason: SkipReason; detail?: string };

const CLASS_ID = /^[\w.:-]{1,128}$/;

/** Decides whether a catalog document is a class to copy: broadcast, not a test, with a manifest and an end. */
export function judgeClass(doc: CatalogDocument, fields: CatalogFields, allowedHosts: readonly string[]): Verdict {
  const classId = doc.id;
  if (!CLASS_ID.test(classId))
    return {
      ok: false,
      classId: classId.slice(0, 64),
      reason: 'invalid id',
      detail: 'ids may hold letters, digits, "_", "-", ".", ":"',
    };
  const status: unknown = doc.fields[fields.status];
  if (doc.fields[fields.isTest] === true) return { ok: false, classId, reason: 'test class' };
  if (status === 'aborted') return { ok: false, classId, reason: 'aborted' };
  if (status !== 'broadcast')
    return { ok: false, classId, reason: 'not broadcast yet', detail: `status is ${JSON.stringify(status ?? null)}` };
  const manifest: unknown = doc.fields[fields.manifestUrl];
  if (typeof manifest !== 'string' || manifest.trim() === '')
    return { ok: false, classId, reason: 'missing manifestUrl' };
  let url: URL;
  try {
    url = new URL(manifest.trim());
  } catch {
    return { ok: false, classId, reason: 'invalid manifestUrl', detail: manifest.slice(0, 200) };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { ok: false, classId, reason: 'invalid manifestUrl', detail: `scheme ${url.protocol}` };
  if (!isHostAllowed(url, allowedHosts))
    return {
      ok: false,
      classId,
      reason: 'manifest host not allowed',
      detail: `host ${url.host} is not in ORIGIN_ALLOWED_HOSTS`,
    };
  const ended: unknown = doc.fields[fields.endedAt];
  if (!(ended instanceof Date) && !(typeof ended === 'string' && !Number.isNaN(Date.parse(ended))))
    return { ok: false, classId, reason: 'missing endedAt' };
  const title: unknown = doc.fields[fields.title];
  const endedAt = new Date(ended instanceof Date ? ended.getTime() : Date.parse(ended)).toISOString();
  return {
    ok: true,
    cls: {
      classId,
      title: typeof title === 'string' && title ? title.slice(0, 1024) : classId,
      manifestUrl: url.href,
      endedAt,
    },
  };
}
