import type { CatalogFields } from '../domain/vocabulary.ts';
import { judgeClass, type ReadyClass, type SkipReason } from '../domain/planning/class-rules.ts';
import type { Catalog } from '../domain/ports/catalog.ts';
import { Reservoir } from './stats.ts';

/** The catalog as a scan sees it, and a uniform sample of its valid classes. */
export interface CatalogSample {
  documents: number;
  validClasses: number;
  skipped: Partial<Record<SkipReason, number>>;
  sample: ReadyClass[];
}

/**
 * Reads the whole catalog once, page by page in id order (one id kind after the other, as the
 * scanner pages it), validates every document with the scanner's own rules, counts the valid
 * classes and keeps a uniform random sample of `size` of them (reservoir sampling: one pass, no
 * catalog held in memory, no reliance on `$sample`, which not every MongoDB-compatible server has).
 */
export async function sampleCatalog(
  catalog: Catalog,
  opts: {
    fields: CatalogFields;
    allowedHosts: readonly string[];
    size: number;
    random: () => number;
    pageSize: number;
  },
): Promise<CatalogSample> {
  const reservoir = new Reservoir<ReadyClass>(opts.size, opts.random);
  const skipped: Partial<Record<SkipReason, number>> = {};
  let documents = 0;
  for (const phase of catalog.idKinds) {
    let after: string | undefined;
    for (;;) {
      const docs = await catalog.page(phase, after, opts.pageSize);
      documents += docs.length;
      for (const doc of docs) {
        const verdict = judgeClass(doc, opts.fields, opts.allowedHosts);
        if (verdict.ok) reservoir.offer(verdict.cls);
        else skipped[verdict.reason] = (skipped[verdict.reason] ?? 0) + 1;
      }
      const last = docs.at(-1);
      if (docs.length < opts.pageSize || !last) break;
      after = last.id;
    }
  }
  return { documents, validClasses: reservoir.count, skipped, sample: reservoir.sample() };
}
