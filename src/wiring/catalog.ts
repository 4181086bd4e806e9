import type { Config } from '../config.ts';
import type { Catalog } from '../domain/ports/catalog.ts';
import type { ParameterReader } from '../adapters/ssm/secrets.ts';

/**
 * The configured catalog, opened: its URI from MONGODB_URI, else from the SSM SecureString
 * MONGODB_URI_SSM_PARAM names (read once per opened catalog: a Lambda reads SSM on its cold start).
 * The MongoDB driver and the SSM client are loaded here, when first asked for: only the scanner and
 * `flants estimate` read the catalog, and the driver is half of what every other command would
 * otherwise load at start-up.
 */
export async function openConfiguredCatalog(cfg: Config, reader?: ParameterReader): Promise<Catalog> {
  const { resolveMongoUri } = await import('../adapters/ssm/secrets.ts');
  const uri = await resolveMongoUri(cfg, reader);
  const { openCatalog } = await import('../adapters/mongodb/catalog.ts');
  return openCatalog(cfg, uri);
}
