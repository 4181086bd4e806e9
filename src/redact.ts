/**
 * Redaction of what must never reach a log line or a stored failure reason: credentials, the
 * query strings of (signed) URLs, userinfo in URLs, cookies, authorization headers and the
 * MongoDB URI. It works on text, so it also catches secrets inside error messages and nested
 * fields, whatever code wrote them.
 */

const R = '<redacted>';

/** Exact values known to be secret in this process (the environment's credentials, the MongoDB URI read from SSM). */
const known = new Set<string>();

/** Adds a value that must never appear in logs (ignored when too short to be a secret on its own). */
export function addSecret(value: string | undefined): void {
  if (value && value.length >= 8) known.add(value);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Order matters: whole MongoDB URIs first, then userinfo and queries of any other URL.
const RULES: ReadonlyArray<[RegExp, string]> = [
  // A MongoDB URI names hosts, users and passwords: none of it is for logs.
  [/mongodb(?:\+srv)?:\/\/[^\s"'<>\\]+/gi, `mongodb://${R}`],
  // user:password@ in any URL.
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s"'<>/\\@]+@/gi, `$1${R}@`],
  // The query string of any URL: signed-URL signatures, policies, tokens, keys.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s"'<>\\?#]*)\?[^\s"'<>\\#]*/gi, `$1?${R}`],
  // Signed-URL and token parameters outside a full URL (a path with its query, a form body).
  [
    /\b(X-Amz-(?:Signature|Credential|Security-Token)|Signature|Policy|Key-Pair-Id|token|access_token|id_token|sig|signature|api_key|apikey|auth)=[^&\s"'<>\\]+/gi,
    `$1=${R}`,
  ],
  // Cookies and authorization, as JSON fields ("cookie": "...") or header text (Cookie: ...).
  [/("(?:set-)?cookie"\s*:\s*)(?:"(?:[^"\\]|\\.)*"|\[(?:[^\]"\\]|"(?:[^"\\]|\\.)*")*\])/gi, `$1"${R}"`],
  [/("(?:authorization|proxy-authorization|x-amz-security-token|x-api-key)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi, `$1"${R}"`],
  [/\b((?:set-)?cookie|authorization|proxy-authorization|x-amz-security-token)(\s*[:=]\s*)[^\n"\\]+/gi, `$1$2${R}`],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/g, `Bearer ${R}`],
  // JSON fields whose name says secret.
  [
    /("[^"]*(?:secret|password|passwd|credential|session[_-]?token|private[_-]?key|api[_-]?key|mongodb[_-]?uri)[^"]*"\s*:\s*)"(?:[^"\\]|\\.)*"/gi,
    `$1"${R}"`,
  ],
  // AWS access key ids, wherever they appear.
  [/\b(?:AKIA|ASIA|AIDA|AROA|AIPA|ANPA|ANVA|AGPA)[A-Z0-9]{16}\b/g, R],
];

/** Returns `text` with every secret this module knows how to recognise replaced by `<redacted>`. */
export function redactText(text: string): string {
  let out = text;
  for (const value of known) if (out.includes(value)) out = out.replace(new RegExp(escapeRegExp(value), 'g'), R);
  for (const [re, replacement] of RULES) out = out.replace(re, replacement);
  return out;
}

/** Registers the secrets of an environment (AWS credentials, the MongoDB URI and its password). */
export function addEnvironmentSecrets(env: Record<string, string | undefined>): void {
  for (const name of ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ACCESS_KEY_ID', 'MONGODB_URI'])
    addSecret(env[name]);
  addUriSecrets(env.MONGODB_URI);
}

/** Registers a URI and the password inside it (a MongoDB URI read from SSM is one). */
export function addUriSecrets(uri: string | undefined): void {
  if (!uri) return;
  addSecret(uri);
  const password = /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:([^@/]+)@/i.exec(uri)?.[1];
  if (password) {
    addSecret(password);
    try {
      addSecret(decodeURIComponent(password));
    } catch {
      // An undecodable password is still registered as written.
    }
  }
}
