/**
 * The lab S3's "AWS permissions" mode: requests signed with a given access key are held to that
 * principal's IAM identity policy, as S3 holds a role to its policy, including the rule no local
 * server models by itself: a read (HEAD/GET) of a key that does not exist answers 403 AccessDenied,
 * not 404, unless the caller also has `s3:ListBucket` on the bucket (AWS's HeadObject page:
 * "If you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP status code 403
 * Forbidden error"). Tests feed it the policy of serverless.yml's transfer role, so a grant removed
 * from serverless.yml fails the copy that needs it.
 *
 * Requests signed with any other key (the stack's owner: setup, tests' own checks) are not checked.
 * Only what FLAnts' roles use is modelled: Allow/Deny statements, Action and Resource with `*`/`?`
 * wildcards, and the StringLike/StringEquals condition operators (others are refused loudly).
 */
import type { buildApp } from 'fauxqs';

/** One statement of an identity policy, its intrinsics already resolved to text. */
export interface IamStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface AwsPermissions {
  /** Access key id → the identity policy statements of the principal that signs with it. */
  principals: Record<string, IamStatement[]>;
  /**
   * How the implicit `s3:ListBucket` check of a read of a missing key sees the `s3:prefix`
   * condition key. AWS does not document it: `unset` (the default, the strict reading: the key is
   * absent, so a grant conditioned on s3:prefix does not apply and the read answers 403) or `key`
   * (the object key stands as the prefix). FLAnts must work under both.
   */
  implicitListPrefix?: 'unset' | 'key';
}

/** What one S3 request asks IAM for. */
export interface S3Authorization {
  action: string;
  resource: string;
  context: Record<string, string>;
}

const list = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);

/** IAM's wildcard match: `*` any run of characters, `?` any one; actions case-insensitively. */
function like(pattern: string, value: string, caseless = false): boolean {
  const re = new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
    caseless ? 'is' : 's',
  );
  return re.test(value);
}

function conditionsHold(cond: IamStatement['Condition'], context: Record<string, string>): boolean {
  for (const [operator, keys] of Object.entries(cond ?? {})) {
    for (const [key, wanted] of Object.entries(keys)) {
      const value = context[key];
      // IAM: a condition on a key the request does not carry does not hold (no ...IfExists here).
      if (value === undefined) return false;
      if (operator === 'StringLike') {
        if (!list(wanted).some((w) => like(w, value))) return false;
      } else if (operator === 'StringEquals') {
        if (!list(wanted).includes(value)) return false;
      } else throw new Error(`lab S3 permissions: condition operator ${operator} is not modelled`);
    }
  }
  return true;
}

/** IAM's evaluation for one identity policy: an explicit Deny wins, then any Allow, else an implicit deny. */
export function isAllowed(statements: readonly IamStatement[], req: S3Authorization): boolean {
  const applies = (s: IamStatement) =>
    list(s.Action).some((a) => like(a, req.action, true)) &&
    list(s.Resource).some((r) => like(r, req.resource)) &&
    conditionsHold(s.Condition, req.context);
  if (statements.some((s) => s.Effect === 'Deny' && applies(s))) return false;
  return statements.some((s) => s.Effect === 'Allow' && applies(s));
}

/** The IAM action, resource and condition keys of a path-style S3 REST request. */
export function s3Authorization(
  method: string,
  rawUrl: string,
  headers: Record<string, string | string[] | undefined>,
): S3Authorization {
  const u = new URL(rawUrl, 'http://s3.invalid');
  const q = u.searchParams;
  const [bucket = '', ...rest] = u.pathname.split('/').slice(1);
  const key = rest.map(decodeURIComponent).join('/');
  const bucketArn = `arn:aws:s3:::${bucket}`;
  const object = (action: string): S3Authorization => ({ action, resource: `${bucketArn}/${key}`, context: {} });
  if (key !== '') {
    if (method === 'GET' && q.has('uploadId')) return object('s3:ListMultipartUploadParts');
    if (method === 'GET' || method === 'HEAD') return object('s3:GetObject');
    if (method === 'PUT' && headers['x-amz-copy-source'] !== undefined) return object('s3:PutObject');
    if (method === 'PUT' || method === 'POST') return object('s3:PutObject');
    if (method === 'DELETE') return object(q.has('uploadId') ? 's3:AbortMultipartUpload' : 's3:DeleteObject');
    return object(`s3:Unknown${method}`);
  }
  const bucketAction = (action: string, context: Record<string, string> = {}): S3Authorization => ({
    action,
    resource: bucketArn,
    context,
  });
  if (method === 'GET' && q.has('lifecycle')) return bucketAction('s3:GetLifecycleConfiguration');
  if (method === 'PUT' && q.has('lifecycle')) return bucketAction('s3:PutLifecycleConfiguration');
  if (method === 'GET' && q.has('uploads')) return bucketAction('s3:ListBucketMultipartUploads');
  if (method === 'GET' && [...q.keys()].every((k) => LIST_PARAMETERS.has(k))) {
    const prefix = q.get('prefix');
    return bucketAction('s3:ListBucket', prefix === null ? {} : { 's3:prefix': prefix });
  }
  if (method === 'HEAD') return bucketAction('s3:ListBucket');
  if (method === 'PUT' && [...q.keys()].every((k) => k === 'x-id')) return bucketAction('s3:CreateBucket');
  if (method === 'DELETE') return bucketAction('s3:DeleteBucket');
  if (method === 'POST' && q.has('delete')) return bucketAction('s3:DeleteObject');
  return bucketAction(`s3:Unknown${method}Bucket`);
}

const LIST_PARAMETERS = new Set([
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'continuation-token',
  'start-after',
  'encoding-type',
  'fetch-owner',
  'marker',
  'x-id',
]);

/** The access key id a SigV4 request is signed with (header or presigned query), if any. */
export function accessKeyOf(
  rawUrl: string,
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  const auth = headers.authorization;
  const text = Array.isArray(auth) ? auth[0] : auth;
  const fromHeader = text && /Credential=([^/,\s]+)\//.exec(text)?.[1];
  if (fromHeader) return fromHeader;
  const cred = new URL(rawUrl, 'http://s3.invalid').searchParams.get('X-Amz-Credential');
  return cred?.split('/')[0] || undefined;
}

export const ACCESS_DENIED_XML =
  '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';

/**
 * Holds principals to their policies on an S3 app (fauxqs). A refused request answers 403
 * AccessDenied and reaches nothing; an allowed read that finds no object answers 403 unless the
 * caller may list the bucket (see `AwsPermissions.implicitListPrefix`).
 */
export function addAwsPermissions(app: ReturnType<typeof buildApp>, perms: AwsPermissions): void {
  /** Reads whose "not found" must become AccessDenied: the caller may not list the bucket. */
  const hideMissing = new WeakSet<object>();
  app.addHook('onRequest', async (req, reply) => {
    // SQS shares the server (JSON protocol on "/"): only path-style S3 requests are S3's business.
    if (req.headers['x-amz-target'] !== undefined || new URL(req.url, 'http://s3.invalid').pathname === '/')
      return undefined;
    const principal = accessKeyOf(req.url, req.headers);
    const policy = principal === undefined ? undefined : perms.principals[principal];
    if (!policy) return undefined;
    const auth = s3Authorization(req.method, req.url, req.headers);
    if (!isAllowed(policy, auth)) {
      reply.header('content-type', 'application/xml');
      return reply.status(403).send(ACCESS_DENIED_XML);
    }
    if (auth.action === 's3:GetObject') {
      const bucketArn = auth.resource.slice(0, auth.resource.indexOf('/'));
      const key = auth.resource.slice(bucketArn.length + 1);
      const context: Record<string, string> =
        (perms.implicitListPrefix ?? 'unset') === 'key' ? { 's3:prefix': key } : {};
      if (!isAllowed(policy, { action: 's3:ListBucket', resource: bucketArn, context })) hideMissing.add(req.raw);
    }
    return undefined;
  });
  // Callback style, as the other onSend hooks of the lab's S3 (fastify ran async ones twice on empty payloads).
  app.addHook('onSend', (req, reply, payload, done) => {
    if (reply.statusCode === 404 && hideMissing.has(req.raw)) {
      reply.status(403);
      reply.header('content-type', 'application/xml');
      return done(null, req.method === 'HEAD' ? '' : ACCESS_DENIED_XML);
    }
    return done(null, payload);
  });
}
