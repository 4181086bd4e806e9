import { MongoClient } from 'mongodb';
import type { SampleLibrary } from '../../lab/library.ts';
import { startOriginServer, type OriginServer, type OriginServerOptions } from '../../lab/origin-server.ts';
import { startLocalStack, type LocalStack } from '../../lab/stack.ts';

/** What a CLI test drives: the local servers, the lab origin serving its library, and the environment `flants` runs with. */
export interface CliEnv {
  stack: LocalStack;
  origin: OriginServer;
  /** The stack's endpoints, the origin's host allowed, then the test's own settings. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * The operator's starting point, which every CLI test would otherwise write out again: servers a user
 * already runs, the lab origin serving `library`, and the library's catalog (its classes and the ones
 * the scanner skips) in the local MongoDB. Nothing is set up for the stage: that is `flants setup`'s job.
 */
export async function startCliEnv(
  library: SampleLibrary,
  settings: Record<string, string>,
  originOptions: OriginServerOptions = {},
): Promise<CliEnv> {
  const [stack, origin] = await Promise.all([startLocalStack(), startOriginServer(library, originOptions)]);
  const env = { ...stack.env, ORIGIN_ALLOWED_HOSTS: new URL(origin.url).host, ...settings };
  const mongo = await new MongoClient(stack.env.MONGODB_URI!).connect();
  try {
    await mongo.db().collection('classes').insertMany(library.catalogDocuments(origin.url));
  } finally {
    await mongo.close();
  }
  return {
    stack,
    origin,
    env,
    async stop() {
      await origin.close();
      await stack.stop();
    },
  };
}
