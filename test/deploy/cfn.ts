// Offline checks of a CloudFormation template: references, conditions, and resource types and
// property names against the CloudFormation resource specification (@aws-cdk/aws-service-spec).
import { createRequire } from 'node:module';

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export interface CfnResource {
  Type: string;
  Properties?: JsonObject;
  DependsOn?: string | string[];
  Condition?: string;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  [k: string]: Json | undefined;
}

export interface Template {
  Resources: Record<string, CfnResource>;
  Parameters?: Record<string, JsonObject>;
  Conditions?: Record<string, Json>;
  Outputs?: Record<string, JsonObject>;
  Mappings?: Record<string, Json>;
  [k: string]: Json | Record<string, CfnResource> | undefined;
}

export const PSEUDO_PARAMETERS = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

const INTRINSICS = new Set([
  'Ref',
  'Condition',
  'Fn::GetAtt',
  'Fn::Sub',
  'Fn::Join',
  'Fn::If',
  'Fn::Equals',
  'Fn::Not',
  'Fn::And',
  'Fn::Or',
  'Fn::Select',
  'Fn::Split',
  'Fn::FindInMap',
  'Fn::GetAZs',
  'Fn::ImportValue',
  'Fn::Base64',
  'Fn::Cidr',
  'Fn::Length',
  'Fn::ToJsonString',
]);

const TEMPLATE_KEYS = new Set([
  'AWSTemplateFormatVersion',
  'Description',
  'Metadata',
  'Parameters',
  'Mappings',
  'Conditions',
  'Transform',
  'Resources',
  'Outputs',
  'Rules',
]);
const RESOURCE_KEYS = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'Metadata',
  'CreationPolicy',
  'UpdatePolicy',
]);
const DELETION_POLICIES = new Set(['Delete', 'Retain', 'RetainExceptOnCreate', 'Snapshot']);

/** True for a plain JSON object (not an array, not null). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The intrinsic function a value is, if it is one (`{ "Fn::X": ... }` or `{ "Ref": ... }`). */
export function intrinsicName(v: unknown): string | undefined {
  if (!isObject(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length !== 1) return undefined;
  const k = keys[0]!;
  return k === 'Ref' || k === 'Condition' || k.startsWith('Fn::') ? k : undefined;
}

/** `${Name}` / `${Name.Attr}` placeholders of an Fn::Sub string (`${!Literal}` excluded). */
export function subPlaceholders(template: string): string[] {
  return [...template.matchAll(/\$\{([^}!][^}]*)\}/g)].map((m) => m[1]!.trim());
}

/** Normalises Fn::GetAtt's two forms to [logicalId, attribute]. */
export function getAttParts(v: Json): [string, string] | undefined {
  if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string') return [v[0], v[1]];
  if (typeof v === 'string' && v.includes('.')) {
    const i = v.indexOf('.');
    return [v.slice(0, i), v.slice(i + 1)];
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The CloudFormation resource specification, loaded from the npm package's files (no network).

interface SpecPropertyType {
  type: string;
  allowedValues?: Array<string | number>;
  element?: SpecPropertyType;
  types?: SpecPropertyType[];
  reference?: { $ref: string };
}
interface SpecProperty {
  type: SpecPropertyType;
  previousTypes?: SpecPropertyType[];
  required?: boolean;
}
interface SpecResource {
  cloudFormationType: string;
  properties: Record<string, SpecProperty>;
  attributes: Record<string, unknown>;
}
interface SpecTypeDefinition {
  name: string;
  properties: Record<string, SpecProperty>;
}

/** The subset of the spec database these checks use. */
export interface ResourceSpec {
  resource(type: string): SpecResource | undefined;
  typeDefinition(ref: string): SpecTypeDefinition | undefined;
}

interface SpecDb {
  lookup(entity: 'resource', index: 'cloudFormationType', op: 'equals', value: string): SpecResource[];
  get(entity: 'typeDefinition', id: string): SpecTypeDefinition;
}

let spec: ResourceSpec | undefined;

/** Loads the bundled CloudFormation resource specification once (about a second). */
export function loadResourceSpec(): ResourceSpec {
  if (!spec) {
    const require = createRequire(import.meta.url);
    const { loadAwsServiceSpecSync } = require('@aws-cdk/aws-service-spec') as { loadAwsServiceSpecSync(): SpecDb };
    const db = loadAwsServiceSpecSync();
    spec = {
      resource: (type) => db.lookup('resource', 'cloudFormationType', 'equals', type)[0],
      typeDefinition: (ref) => {
        try {
          return db.get('typeDefinition', ref);
        } catch {
          return undefined;
        }
      },
    };
  }
  return spec;
}

function describeType(t: SpecPropertyType, s: ResourceSpec): string {
  switch (t.type) {
    case 'ref':
      return s.typeDefinition(t.reference!.$ref)?.name ?? 'object';
    case 'array':
      return `array of ${describeType(t.element!, s)}`;
    case 'map':
      return `map of ${describeType(t.element!, s)}`;
    case 'union':
      return t.types!.map((x) => describeType(x, s)).join(' | ');
    default:
      return t.type;
  }
}

/** Errors of one value against one spec type; intrinsics are accepted (Fn::If: both branches checked). */
function checkValue(value: Json, t: SpecPropertyType, path: string, s: ResourceSpec, errors: string[]): void {
  const fn = intrinsicName(value);
  if (fn === 'Fn::If') {
    const args = (value as JsonObject)['Fn::If'];
    if (Array.isArray(args) && args.length === 3) {
      for (const branch of [args[1]!, args[2]!]) {
        if (intrinsicName(branch) === 'Ref' && (branch as JsonObject).Ref === 'AWS::NoValue') continue;
        checkValue(branch, t, path, s, errors);
      }
    }
    return;
  }
  if (fn) return;
  switch (t.type) {
    case 'json':
      return;
    case 'string':
    case 'date-time':
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
        errors.push(`${path}: expected a string, got ${JSON.stringify(value)}`);
      else if (t.allowedValues && !t.allowedValues.map(String).includes(String(value)))
        errors.push(`${path}: ${JSON.stringify(value)} is not one of ${t.allowedValues.join(', ')}`);
      return;
    case 'number':
    case 'integer':
      if (!(
        typeof value === 'number' ||
        (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
      ))
        errors.push(`${path}: expected a number, got ${JSON.stringify(value)}`);
      else if (t.type === 'integer' && !Number.isInteger(Number(value)))
        errors.push(`${path}: expected an integer, got ${JSON.stringify(value)}`);
      return;
    case 'boolean':
      if (!(typeof value === 'boolean' || value === 'true' || value === 'false'))
        errors.push(`${path}: expected a boolean, got ${JSON.stringify(value)}`);
      return;
    case 'null':
      return;
    case 'tag':
      if (!isObject(value) || !('Key' in value) || !('Value' in value))
        errors.push(`${path}: expected a tag {Key, Value}`);
      return;
    case 'array':
      if (!Array.isArray(value)) errors.push(`${path}: expected an array, got ${JSON.stringify(value).slice(0, 80)}`);
      else value.forEach((v, i) => checkValue(v, t.element!, `${path}[${i}]`, s, errors));
      return;
    case 'map':
      if (!isObject(value)) errors.push(`${path}: expected a map`);
      else for (const [k, v] of Object.entries(value)) checkValue(v, t.element!, `${path}.${k}`, s, errors);
      return;
    case 'union': {
      for (const option of t.types!) {
        const sub: string[] = [];
        checkValue(value, option, path, s, sub);
        if (sub.length === 0) return;
      }
      errors.push(`${path}: ${JSON.stringify(value).slice(0, 80)} matches none of ${describeType(t, s)}`);
      return;
    }
    case 'ref': {
      const def = s.typeDefinition(t.reference!.$ref);
      if (!def) return;
      if (!isObject(value)) {
        errors.push(`${path}: expected ${def.name} (an object), got ${JSON.stringify(value).slice(0, 80)}`);
        return;
      }
      checkProperties(value, def.properties, path, s, errors);
      return;
    }
    default:
      return;
  }
}

function checkProperty(value: Json, p: SpecProperty, path: string, s: ResourceSpec, errors: string[]): void {
  const candidates = [p.type, ...(p.previousTypes ?? [])];
  let first: string[] | undefined;
  for (const t of candidates) {
    const sub: string[] = [];
    checkValue(value, t, path, s, sub);
    if (sub.length === 0) return;
    first ??= sub;
  }
  errors.push(...(first ?? []));
}

function checkProperties(
  value: JsonObject,
  props: Record<string, SpecProperty>,
  path: string,
  s: ResourceSpec,
  errors: string[],
): void {
  for (const [k, v] of Object.entries(value)) {
    const p = props[k];
    if (!p) {
      errors.push(`${path}: unknown property "${k}" (known: ${Object.keys(props).sort().join(', ')})`);
      continue;
    }
    checkProperty(v, p, `${path}.${k}`, s, errors);
  }
  for (const [k, p] of Object.entries(props)) {
    if (p.required && !(k in value)) errors.push(`${path}: required property "${k}" is missing`);
  }
}

/** Every resource's Type exists in the spec, and its properties (nested too) are known, typed and complete. */
export function checkAgainstSpec(t: Template, s: ResourceSpec = loadResourceSpec()): string[] {
  const errors: string[] = [];
  for (const k of Object.keys(t)) if (!TEMPLATE_KEYS.has(k)) errors.push(`template: unknown top-level section "${k}"`);
  for (const [id, r] of Object.entries(t.Resources)) {
    for (const k of Object.keys(r)) if (!RESOURCE_KEYS.has(k)) errors.push(`${id}: unknown resource attribute "${k}"`);
    for (const k of ['DeletionPolicy', 'UpdateReplacePolicy'] as const) {
      if (r[k] !== undefined && !DELETION_POLICIES.has(String(r[k])))
        errors.push(`${id}: ${k} "${String(r[k])}" is not valid`);
    }
    if (r.Type.startsWith('Custom::') || r.Type === 'AWS::CloudFormation::CustomResource') continue;
    const res = s.resource(r.Type);
    if (!res) {
      errors.push(`${id}: unknown resource type ${r.Type}`);
      continue;
    }
    checkProperties(r.Properties ?? {}, res.properties, `${id}(${r.Type})`, s, errors);
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------
// References.

interface RefContext {
  /** The resource or output the reference sits in, for messages. */
  where: string;
  /** Conditions known true here: the owner's Condition and enclosing Fn::If true branches. */
  conditions: Set<string>;
  /** Fn::Sub variables in scope. */
  subVars: Set<string>;
}

/**
 * Every Ref, Fn::GetAtt, Fn::Sub placeholder and DependsOn names a resource, parameter or pseudo
 * parameter; attributes exist for the resource's type; conditions exist; and a resource that
 * only exists under a condition is referenced only where that condition holds.
 */
export function checkReferences(t: Template, s: ResourceSpec = loadResourceSpec()): string[] {
  const errors: string[] = [];
  const resources = t.Resources;
  const params = new Set(Object.keys(t.Parameters ?? {}));
  const conditions = new Set(Object.keys(t.Conditions ?? {}));

  const checkTarget = (id: string, attr: string | undefined, ctx: RefContext, how: string): void => {
    if (ctx.subVars.has(id) && attr === undefined) return;
    if (attr === undefined && (PSEUDO_PARAMETERS.has(id) || params.has(id))) return;
    const target = resources[id];
    if (!target) {
      errors.push(
        `${ctx.where}: ${how} targets "${id}", which is not a resource${attr === undefined ? ', parameter or pseudo parameter' : ''}`,
      );
      return;
    }
    if (attr !== undefined && !target.Type.startsWith('Custom::')) {
      const res = s.resource(target.Type);
      if (res && !(attr in res.attributes))
        errors.push(
          `${ctx.where}: ${how} asks ${id} (${target.Type}) for "${attr}", which it does not have (has: ${Object.keys(res.attributes).join(', ')})`,
        );
    }
    if (target.Condition && !ctx.conditions.has(target.Condition)) {
      errors.push(
        `${ctx.where}: ${how} targets ${id}, which exists only if ${target.Condition}, from a place where that condition is not known to hold`,
      );
    }
  };

  const walk = (v: Json, ctx: RefContext): void => {
    if (Array.isArray(v)) {
      v.forEach((x) => walk(x, ctx));
      return;
    }
    if (!isObject(v)) return;
    const fn = intrinsicName(v);
    if (!fn) {
      for (const [k, x] of Object.entries(v)) {
        if (k.startsWith('Fn::') && !INTRINSICS.has(k)) errors.push(`${ctx.where}: unknown intrinsic function ${k}`);
        walk(x, ctx);
      }
      return;
    }
    const arg = v[fn]!;
    switch (fn) {
      case 'Ref':
        if (typeof arg !== 'string') errors.push(`${ctx.where}: Ref needs a name, got ${JSON.stringify(arg)}`);
        else checkTarget(arg, undefined, ctx, `Ref ${arg}`);
        return;
      case 'Fn::GetAtt': {
        const parts = getAttParts(arg);
        if (!parts) errors.push(`${ctx.where}: malformed Fn::GetAtt ${JSON.stringify(arg)}`);
        else checkTarget(parts[0], parts[1], ctx, `Fn::GetAtt ${parts.join('.')}`);
        return;
      }
      case 'Fn::Sub': {
        const [str, vars] = Array.isArray(arg) ? [arg[0], arg[1]] : [arg, undefined];
        if (typeof str !== 'string') {
          errors.push(`${ctx.where}: Fn::Sub needs a string`);
          return;
        }
        const subVars = new Set(isObject(vars) ? Object.keys(vars) : []);
        if (isObject(vars)) walk(vars, ctx);
        const inner: RefContext = { ...ctx, subVars };
        for (const p of subPlaceholders(str)) {
          const dot = p.indexOf('.');
          if (dot < 0) checkTarget(p, undefined, inner, `Fn::Sub \${${p}}`);
          else checkTarget(p.slice(0, dot), p.slice(dot + 1), inner, `Fn::Sub \${${p}}`);
        }
        return;
      }
      case 'Fn::If': {
        if (!Array.isArray(arg) || arg.length !== 3 || typeof arg[0] !== 'string') {
          errors.push(`${ctx.where}: Fn::If needs [condition, then, else]`);
          return;
        }
        const cond = arg[0];
        if (!conditions.has(cond)) errors.push(`${ctx.where}: Fn::If names unknown condition "${cond}"`);
        walk(arg[1]!, { ...ctx, conditions: new Set([...ctx.conditions, cond]) });
        walk(arg[2]!, ctx);
        return;
      }
      case 'Condition':
        if (typeof arg !== 'string' || !conditions.has(arg))
          errors.push(`${ctx.where}: unknown condition ${JSON.stringify(arg)}`);
        return;
      case 'Fn::FindInMap':
        if (!Array.isArray(arg) || typeof arg[0] !== 'string' || !(t.Mappings && arg[0] in t.Mappings))
          errors.push(`${ctx.where}: Fn::FindInMap names an unknown mapping`);
        walk(arg, ctx);
        return;
      case 'Fn::ImportValue':
        errors.push(`${ctx.where}: Fn::ImportValue ties this stack to another one`);
        return;
      default:
        walk(arg, ctx);
    }
  };

  const none = new Set<string>();
  for (const [id, c] of Object.entries(t.Conditions ?? {}))
    walk(c, { where: `Conditions.${id}`, conditions: none, subVars: none });
  for (const [id, r] of Object.entries(resources)) {
    if (r.Condition !== undefined && !conditions.has(r.Condition))
      errors.push(`${id}: unknown Condition "${r.Condition}"`);
    const ctx: RefContext = { where: id, conditions: new Set(r.Condition ? [r.Condition] : []), subVars: none };
    const deps = r.DependsOn === undefined ? [] : Array.isArray(r.DependsOn) ? r.DependsOn : [r.DependsOn];
    for (const d of deps) checkTarget(d, undefined, ctx, `DependsOn ${d}`);
    if (r.Properties) walk(r.Properties, ctx);
  }
  for (const [id, o] of Object.entries(t.Outputs ?? {})) {
    const cond = typeof o.Condition === 'string' ? o.Condition : undefined;
    walk(o, { where: `Outputs.${id}`, conditions: new Set(cond ? [cond] : []), subVars: none });
  }
  return errors;
}

/** Every string anywhere in a JSON value, with its path (for "this must never appear" checks). */
export function allStrings(
  v: Json,
  path = '$',
  out: Array<{ path: string; value: string }> = [],
): Array<{ path: string; value: string }> {
  if (typeof v === 'string') out.push({ path, value: v });
  else if (Array.isArray(v)) v.forEach((x, i) => allStrings(x, `${path}[${i}]`, out));
  else if (isObject(v)) for (const [k, x] of Object.entries(v)) allStrings(x, `${path}.${k}`, out);
  return out;
}

/** Resources of one type, as [logicalId, resource] pairs. */
export function resourcesOfType(t: Template, type: string): Array<[string, CfnResource]> {
  return Object.entries(t.Resources).filter(([, r]) => r.Type === type);
}

/** The logical id a `{Ref: X}` or `{Fn::GetAtt: [X, ...]}` points at. */
export function targetOf(v: Json | undefined): string | undefined {
  if (!isObject(v)) return undefined;
  if (typeof v.Ref === 'string') return v.Ref;
  const parts = v['Fn::GetAtt'] === undefined ? undefined : getAttParts(v['Fn::GetAtt']);
  return parts?.[0];
}
