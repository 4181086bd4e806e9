// The memory adapter (the unit tests' bucket) against the ObjectStore contract the S3 adapter passes.
import { createMemoryObjectStore } from '../../../src/adapters/memory/object-store.ts';
import { describeObjectStoreContract } from '../../contracts/object-store.contract.ts';

const PART = 5 * 1024 * 1024;

describeObjectStoreContract('memory adapter', () => {
  const store = createMemoryObjectStore({ partSizeBytes: PART });
  return Promise.resolve({ store, partSizeBytes: PART, close: () => store.close() });
});
