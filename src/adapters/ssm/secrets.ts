import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { required, type Config } from '../../config.ts';
import { ConfigError, FlantsError } from '../../errors.ts';
import { addUriSecrets } from '../../redact.ts';

/** What secrets.ts needs of SSM: the one call, so tests (and other stores) can stand in for it. */
export interface ParameterReader {
  /** The decrypted value of a SecureString (or plain String) parameter. */
  getParameter(name: string): Promise<string>;
}

/** SSM Parameter Store reader; the endpoint comes from the SDK's own AWS_ENDPOINT_URL_SSM if set. */
export function createSsmParameterReader(opts: { region: string; client?: Pick<SSMClient, 'send'> }): ParameterReader {
  const client = opts.client ?? new SSMClient({ region: opts.region });
  return {
    async getParameter(name) {
      let value: string | undefined;
      try {
        const res = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
        value = res.Parameter?.Value;
      } catch (err) {
        // The SDK's message names the parameter and the denied action, never the value.
        const e = err as Error;
        const missing = e.name === 'ParameterNotFound' || e.name === 'AccessDeniedException';
        throw new FlantsError('SECRET_UNAVAILABLE', `cannot read SSM parameter ${name}: ${e.name}: ${e.message}`, {
          retryable: !missing,
          cause: err,
        });
      }
      if (!value) throw new ConfigError(`SSM parameter ${name} is empty`);
      return value;
    },
  };
}

/**
 * The MongoDB connection string: MONGODB_URI when set (local runs), else the SSM SecureString
 * named by MONGODB_URI_SSM_PARAM (Lambda), so the URI never sits in the template or in plain
 * environment variables.
 */
export async function resolveMongoUri(cfg: Config, reader?: ParameterReader): Promise<string> {
  if (cfg.mongo.uri) return cfg.mongo.uri;
  const name = required(
    cfg.mongo.uriSsmParam,
    'MONGODB_URI',
    'to read the class catalog (or MONGODB_URI_SSM_PARAM naming an SSM SecureString that holds it)',
  );
  // Read once per opened catalog, which its owner keeps for the process (a Lambda reads SSM on its cold start).
  reader ??= createSsmParameterReader({
    region: required(cfg.region, 'AWS_REGION', 'to read MONGODB_URI_SSM_PARAM from SSM'),
  });
  const uri = (await reader.getParameter(name)).trim();
  // Never echo the value: it holds the database password.
  if (!/^mongodb(\+srv)?:\/\//.test(uri))
    throw new ConfigError(`SSM parameter ${name} (MONGODB_URI_SSM_PARAM) must hold a mongodb:// or mongodb+srv:// URI`);
  // From here on it is a secret of this process: no log line may carry it.
  addUriSecrets(uri);
  return uri;
}
