import type { AttributeValue } from './attributes.ts';
import { PlaylistError } from './errors.ts';

const NAME = /^[A-Za-z0-9_-]+$/;
const REFERENCE = /\{\$([A-Za-z0-9_-]+)\}/g;

/** Where an EXT-X-DEFINE or a variable reference sits, for the rules that depend on it and for messages. */
export interface VariableScope {
  /** The playlist's URL after redirects. */
  url: URL;
  /** The URL the playlist was requested with; QUERYPARAM falls back to it when a redirect dropped the query. */
  requestUrl: URL | undefined;
  multivariant: boolean;
  /** Variables of the multivariant playlist this media playlist was reached from (IMPORT reads them). */
  importable: ReadonlyMap<string, string> | undefined;
}

function bad(scope: VariableScope, line: number, what: string): PlaylistError {
  return new PlaylistError('BAD_DEFINE', `${scope.url.href} line ${line}: ${what}`, scope.url.href);
}

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/**
 * The value of a query parameter exactly as written in the URL: not decoded, because it goes back into URIs,
 * and decoding would corrupt signed tokens ("a%2Bb" would come back as "a+b", which servers read as "a b").
 */
function queryValue(scope: VariableScope, param: string): string | undefined {
  for (const u of [scope.url, scope.requestUrl]) {
    for (const pair of (u?.search ?? '').slice(1).split('&')) {
      const eq = pair.indexOf('=');
      if (eq > 0 && decodeName(pair.slice(0, eq)) === param && eq < pair.length - 1) return pair.slice(eq + 1);
    }
  }
  return undefined;
}

/** Applies one EXT-X-DEFINE to `vars`: NAME/VALUE, IMPORT from the multivariant playlist, or QUERYPARAM from the URL. */
export function applyDefine(
  attrs: ReadonlyMap<string, AttributeValue>,
  vars: Map<string, string>,
  scope: VariableScope,
  line: number,
): void {
  const forms = ['NAME', 'IMPORT', 'QUERYPARAM'].filter((f) => attrs.has(f));
  // RFC 8216bis §4.4.2.3: exactly one form, and a parser MUST fail the playlist otherwise.
  if (forms.length !== 1) throw bad(scope, line, 'EXT-X-DEFINE needs exactly one of NAME, IMPORT or QUERYPARAM');
  const form = forms[0]!;
  const name = attrs.get(form)!.value;
  if (!NAME.test(name)) throw bad(scope, line, `EXT-X-DEFINE ${form}="${name}" is not a valid variable name`);
  if (vars.has(name)) throw bad(scope, line, `EXT-X-DEFINE defines "${name}" twice`);
  let value: string | undefined;
  if (form === 'NAME') {
    const v = attrs.get('VALUE');
    if (v === undefined || !v.quoted) throw bad(scope, line, `EXT-X-DEFINE NAME="${name}" has no quoted VALUE`);
    value = v.value;
  } else if (form === 'IMPORT') {
    if (scope.multivariant)
      throw bad(scope, line, `EXT-X-DEFINE IMPORT="${name}" is not allowed in a multivariant playlist`);
    value = scope.importable?.get(name);
    if (value === undefined)
      throw bad(scope, line, `EXT-X-DEFINE IMPORT="${name}" but no multivariant playlist above defines it`);
  } else {
    value = queryValue(scope, name);
    if (value === undefined)
      throw bad(scope, line, `EXT-X-DEFINE QUERYPARAM="${name}" but the playlist URL has no such query parameter`);
  }
  vars.set(name, value);
}

/** Replaces each `{$NAME}` with its value; a reference to an undefined variable fails the playlist (BAD_DEFINE). */
export function substitute(
  text: string,
  vars: ReadonlyMap<string, string>,
  scope: VariableScope,
  line: number,
): string {
  if (!text.includes('{$')) return text;
  return text.replace(REFERENCE, (_m, name: string) => {
    const v = vars.get(name);
    if (v === undefined)
      throw bad(scope, line, `variable {$${name}} is used but not defined by an earlier EXT-X-DEFINE`);
    return v;
  });
}
