/**
 * What `flants estimate` can be asked before it does any network work (issue 21, item 7), and where the
 * library's size comes from, said in the report. Pure.
 */

/** Where the library's class count came from. */
export type LibrarySizeSource = 'flag' | 'catalog' | 'urls';

/** How the report says where the size came from. */
export function describeLibrarySource(source: LibrarySizeSource): string {
  if (source === 'flag') return 'as --classes says';
  if (source === 'catalog') return "the catalog's valid classes (MONGODB_URI; --classes sets another size)";
  return 'the URLs given, as the whole library (--classes sets its size)';
}

/** Where the size will come from, given the arguments. */
export function librarySizeSource(urls: number, classes: number | undefined, hasCatalog: boolean): LibrarySizeSource {
  if (classes !== undefined) return 'flag';
  return urls > 0 && !hasCatalog ? 'urls' : 'catalog';
}

/**
 * Refuses, before any request, master URLs too few for a range: one sampled class says nothing of the
 * spread between classes, so it stands only for itself. Undefined when the arguments can be estimated.
 */
export function sampleSizeProblem(urls: number, classes: number | undefined, hasCatalog: boolean): string | undefined {
  if (urls !== 1) return undefined;
  if (classes === 1) return undefined;
  const source = librarySizeSource(urls, classes, hasCatalog);
  if (source === 'urls') return undefined;
  const size =
    source === 'flag' ? `a library of ${classes} classes (--classes)` : "the catalog's library (MONGODB_URI is set)";
  return `one master URL gives no range for ${size}: the spread between classes needs at least 2 sampled classes. Give two or more master URLs, or --classes 1 to measure this one class alone`;
}
