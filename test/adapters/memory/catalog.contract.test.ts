// The memory adapter (the unit tests' catalog) against the Catalog contract the MongoDB adapter passes.
import { createMemoryCatalog } from '../../../src/adapters/memory/catalog.ts';
import { describeCatalogContract } from '../../contracts/catalog.contract.ts';

describeCatalogContract('memory adapter', (docs) => {
  // Ids stored as the MongoDB harness stores them: a 24-hex id is of the first kind, any other of the second.
  const catalog = createMemoryCatalog(
    docs.map((d) => ({ id: d.id, idKind: /^[0-9a-f]{24}$/.test(d.id) ? 'objectId' : 'string', fields: d.fields })),
  );
  return Promise.resolve({ catalog, close: () => catalog.close() });
});
