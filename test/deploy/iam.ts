// IAM checks of a CloudFormation template: no wildcard actions, no wildcard resources beyond the
// few that AWS defines that way, no public Allow, and each function's exact permissions.
import { parse as parseYaml } from 'yaml';
import {
  getAttParts,
  intrinsicName,
  isObject,
  resourcesOfType,
  type Json,
  type JsonObject,
  type Template,
} from './cfn.ts';

/**
 * Actions AWS only authorises on resource "*": allowed there, and nowhere else. GetMetricData: the
 * dashboard reads the queues' ages (the Service Authorization Reference lists no resource type for it).
 */
export const STAR_RESOURCE_ACTIONS = new Set(['cloudwatch:PutMetricData', 'cloudwatch:GetMetricData']);
/** Log actions that may use a log group ARN ending in `:*` (the streams of that one group). */
const LOG_STREAM_ACTIONS = new Set(['logs:CreateLogStream', 'logs:PutLogEvents']);
/** Object-level S3 actions that may use `arn:...:s3:::bucket/prefix*`. */
const S3_OBJECT_ACTIONS = new Set([
  's3:PutObject',
  's3:AbortMultipartUpload',
  's3:GetObject',
  's3:DeleteObject',
  's3:ListMultipartUploadParts',
]);

export type PolicyKind = 'identity' | 'resource' | 'trust';

export interface Statement {
  /** Where it sits, for messages. */
  where: string;
  kind: PolicyKind;
  /** Conditions (template Conditions) under which the statement exists. */
  when: string[];
  doc: JsonObject;
}

const asList = (v: Json | undefined): Json[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Statements of a policy document, with Fn::If expanded into both branches (AWS::NoValue dropped). */
function statementsOf(doc: Json | undefined, where: string, kind: PolicyKind, when: string[] = []): Statement[] {
  if (!isObject(doc)) return [];
  const out: Statement[] = [];
  const visit = (s: Json, path: string, conds: string[]): void => {
    if (intrinsicName(s) === 'Fn::If') {
      const [cond, a, b] = (s as JsonObject)['Fn::If'] as [string, Json, Json];
      visit(a, `${path}(if ${cond})`, [...conds, cond]);
      visit(b, `${path}(unless ${cond})`, [...conds, `!${cond}`]);
      return;
    }
    if (intrinsicName(s) === 'Ref' && (s as JsonObject).Ref === 'AWS::NoValue') return;
    if (isObject(s)) out.push({ where: path, kind, when: conds, doc: s });
  };
  asList(doc.Statement).forEach((s, i) =>
    visit(s, `${where}.Statement[${i}]${isObject(s) && typeof s.Sid === 'string' ? `(${s.Sid})` : ''}`, when),
  );
  return out;
}

/** Every policy statement in the template: role policies, trust policies and resource policies. */
export function collectStatements(t: Template): Statement[] {
  const out: Statement[] = [];
  for (const [id, r] of Object.entries(t.Resources)) {
    const p = r.Properties ?? {};
    const cond = r.Condition ? [r.Condition] : [];
    switch (r.Type) {
      case 'AWS::IAM::Role':
        out.push(...statementsOf(p.AssumeRolePolicyDocument, `${id}.AssumeRolePolicyDocument`, 'trust', cond));
        asList(p.Policies).forEach((pol, i) => {
          if (isObject(pol)) out.push(...statementsOf(pol.PolicyDocument, `${id}.Policies[${i}]`, 'identity', cond));
        });
        break;
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy':
      case 'AWS::IAM::RolePolicy':
        out.push(...statementsOf(p.PolicyDocument, `${id}.PolicyDocument`, 'identity', cond));
        break;
      case 'AWS::S3::BucketPolicy':
      case 'AWS::SQS::QueuePolicy':
      case 'AWS::SNS::TopicPolicy':
        out.push(...statementsOf(p.PolicyDocument, `${id}.PolicyDocument`, 'resource', cond));
        break;
    }
  }
  return out;
}

/** A resource entry as comparable text: `Id.Attr` for GetAtt, `Ref:Id`, `sub:<template>`, or the literal. */
export function resourceKey(v: Json): string {
  if (typeof v === 'string') return v;
  const fn = intrinsicName(v);
  const arg = fn ? (v as JsonObject)[fn]! : undefined;
  if (fn === 'Fn::GetAtt') return getAttParts(arg!)?.join('.') ?? JSON.stringify(v);
  if (fn === 'Ref') return `Ref:${String(arg)}`;
  if (fn === 'Fn::Sub') return `sub:${String(Array.isArray(arg) ? arg[0] : arg)}`;
  return JSON.stringify(v);
}

function wildcardResourceAllowed(actions: string[], key: string): boolean {
  // Pseudo parameters stand for one partition, region or account: never a wildcard.
  const text = key
    .replace(/^sub:/, '')
    .replaceAll('${AWS::Partition}', 'aws')
    .replaceAll('${AWS::Region}', 'us-east-1')
    .replaceAll('${AWS::AccountId}', '123456789012')
    .replaceAll('${AWS::URLSuffix}', 'amazonaws.com');
  if (text === '*') return actions.every((a) => STAR_RESOURCE_ACTIONS.has(a));
  // One log group's streams: arn:<partition>:logs:<region>:<account>:log-group:<name>:*
  if (
    actions.every((a) => LOG_STREAM_ACTIONS.has(a)) &&
    /^arn:[^:*]+:logs:[^:*]+:[^:*]+:log-group:[^*:]+:\*$/.test(text)
  )
    return true;
  // Objects under one bucket prefix: arn:<partition>:s3:::<bucket>/<prefix>*
  if (actions.every((a) => S3_OBJECT_ACTIONS.has(a)) && /^arn:[^:*]+:s3:::[a-z0-9][a-z0-9.-]+\/[^*]*\*$/.test(text))
    return true;
  return false;
}

function isPublicPrincipal(p: Json | undefined): boolean {
  if (p === '*') return true;
  if (isObject(p)) return asList(p.AWS).includes('*');
  return false;
}

/** Wildcard and public-access findings over every Allow statement of the template. */
export function checkIamWildcards(t: Template): string[] {
  const errors: string[] = [];
  for (const s of collectStatements(t)) {
    const { doc, where } = s;
    if (doc.Effect !== 'Allow') continue;
    if (doc.NotAction !== undefined) errors.push(`${where}: Allow with NotAction grants everything else`);
    if (doc.NotResource !== undefined) errors.push(`${where}: Allow with NotResource grants everything else`);
    if (doc.NotPrincipal !== undefined) errors.push(`${where}: Allow with NotPrincipal`);
    const actions = asList(doc.Action);
    if (actions.length === 0) errors.push(`${where}: Allow without Action`);
    const actionNames: string[] = [];
    for (const a of actions) {
      if (typeof a !== 'string') errors.push(`${where}: Action ${JSON.stringify(a)} is not a plain action name`);
      else if (a.includes('*')) errors.push(`${where}: wildcard action "${a}"`);
      else if (!/^[a-z0-9-]+:[A-Za-z0-9]+$/.test(a)) errors.push(`${where}: malformed action "${a}"`);
      else actionNames.push(a);
    }
    if (s.kind === 'trust') continue;
    if (s.kind === 'resource' && isPublicPrincipal(doc.Principal))
      errors.push(`${where}: Allow to Principal "*" makes the resource public`);
    const resources = asList(doc.Resource);
    if (resources.length === 0) errors.push(`${where}: Allow without Resource`);
    for (const r of resources) {
      const key = resourceKey(r);
      if (intrinsicName(r) === 'Fn::Join')
        errors.push(`${where}: Fn::Join resource cannot be checked; use Fn::Sub or Fn::GetAtt`);
      if (key.includes('*') && !wildcardResourceAllowed(actionNames, key))
        errors.push(`${where}: wildcard resource "${key}" for ${actionNames.join(', ')}`);
    }
  }
  return errors;
}

/** Trust policies: every role is assumable only by the Lambda service. */
export function checkTrustPolicies(t: Template): string[] {
  const errors: string[] = [];
  for (const s of collectStatements(t).filter((x) => x.kind === 'trust')) {
    const p = s.doc.Principal;
    const services = isObject(p) ? asList(p.Service) : [];
    if (
      s.doc.Effect !== 'Allow' ||
      !isObject(p) ||
      Object.keys(p).join() !== 'Service' ||
      services.join() !== 'lambda.amazonaws.com' ||
      asList(s.doc.Action).join() !== 'sts:AssumeRole'
    ) {
      errors.push(
        `${s.where}: a function role must trust only lambda.amazonaws.com (sts:AssumeRole), got ${JSON.stringify(s.doc)}`,
      );
    }
  }
  return errors;
}

/**
 * A role's permissions as `{resource: "action,action"}` (sorted), so a test can compare them with
 * exactly what the function needs. Statements that exist only under a template Condition are
 * keyed `if <Condition>: <resource>`.
 */
export function permissionsOfRole(t: Template, roleId: string): Record<string, string> {
  const acc = new Map<string, Set<string>>();
  for (const s of collectStatements(t)) {
    if (s.kind !== 'identity' || !s.where.startsWith(`${roleId}.`) || s.doc.Effect !== 'Allow') continue;
    const prefix = s.when
      .filter((c) => !c.startsWith('!'))
      .map((c) => `if ${c}: `)
      .join('');
    for (const r of asList(s.doc.Resource)) {
      const key = `${prefix}${resourceKey(r)}`;
      const set = acc.get(key) ?? new Set<string>();
      for (const a of asList(s.doc.Action)) set.add(String(a));
      acc.set(key, set);
    }
  }
  return Object.fromEntries(
    [...acc.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort().join(',')]),
  );
}

/** The role logical id a Lambda function runs as (`Role: {Fn::GetAtt: [Id, Arn]}`). */
export function roleOfFunction(t: Template, functionId: string): string | undefined {
  const role = t.Resources[functionId]?.Properties?.Role;
  const parts = isObject(role) && role['Fn::GetAtt'] !== undefined ? getAttParts(role['Fn::GetAtt']) : undefined;
  return parts?.[1] === 'Arn' ? parts[0] : undefined;
}

/** Roles with AWS managed policies attached (which carry their own wildcards). */
export function rolesWithManagedPolicies(t: Template): string[] {
  return resourcesOfType(t, 'AWS::IAM::Role')
    .filter(([, r]) => asList(r.Properties?.ManagedPolicyArns).length > 0)
    .map(([id]) => id);
}

/** What stands for the template's references when a role's policy is evaluated outside CloudFormation. */
export interface Deployment {
  /** Serverless `${param:...}` values over serverless.yml's own (and `stage` for `${sls:stage}`). */
  params: Record<string, string>;
  stage: string;
  partition?: string;
  region?: string;
  account?: string;
  /** Logical id → ARN for `Fn::GetAtt [Id, Arn]`, `Ref` and `${Id.Arn}` (unknown ids stay unresolvable placeholders). */
  arns?: Record<string, string>;
  /** Template Conditions that hold (statements under any other Condition are left out). */
  conditions?: string[];
}

/** An IAM policy statement as AWS evaluates it: every intrinsic resolved to text. */
export interface ResolvedStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/**
 * A role's identity policy statements from serverless.yml as they would be deployed with these
 * values: what the lab's S3 (AWS-permissions mode) and the moto suite hold the transfer to, so a
 * grant removed from serverless.yml is missing there too.
 */
export function deployedStatements(ymlText: string, roleId: string, d: Deployment): ResolvedStatement[] {
  // serverless.yml's own params (default, then the stage's), overridden by the caller's.
  const declared = (parseYaml(ymlText) as { params?: Record<string, Record<string, Json>> }).params ?? {};
  const params: Record<string, Json> = { ...declared.default, ...declared[d.stage], ...d.params };
  const text = ymlText
    .replace(/\$\{param:([A-Za-z0-9]+)\}/g, (_m, name: string) => {
      const v = params[name];
      if (v === undefined) throw new Error(`deployedStatements: no value for \${param:${name}}`);
      return String(v);
    })
    .replaceAll('${sls:stage}', d.stage);
  const doc = parseYaml(text) as { resources: { Resources: Record<string, { Properties?: JsonObject }> } };
  const role = doc.resources.Resources[roleId];
  if (!role) throw new Error(`serverless.yml declares no ${roleId}`);
  const arnOf = (id: string) => d.arns?.[id] ?? `arn:unresolved:${id}`;
  const pseudo: Record<string, string> = {
    'AWS::Partition': d.partition ?? 'aws',
    'AWS::Region': d.region ?? 'us-east-1',
    'AWS::AccountId': d.account ?? '123456789012',
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const resolve = (v: Json): Json => {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null) return v;
    if (Array.isArray(v)) return v.map(resolve);
    const fn = intrinsicName(v);
    if (fn === 'Fn::Sub')
      return String(v[fn]).replace(/\$\{([^}]+)\}/g, (_m, e: string) =>
        pseudo[e] !== undefined ? pseudo[e] : arnOf(e.replace(/\.Arn$/, '')),
      );
    if (fn === 'Fn::GetAtt') return arnOf(getAttParts(v[fn]!)?.[0] ?? '');
    if (fn === 'Ref') return pseudo[String(v[fn])] ?? arnOf(String(v[fn]));
    if (fn) throw new Error(`deployedStatements: cannot resolve ${fn}`);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
  };
  const out: ResolvedStatement[] = [];
  const visit = (s: Json): void => {
    if (intrinsicName(s) === 'Fn::If') {
      const [cond, a, b] = (s as JsonObject)['Fn::If'] as [string, Json, Json];
      return visit((d.conditions ?? []).includes(cond) ? a : b);
    }
    if (intrinsicName(s) === 'Ref' && (s as JsonObject).Ref === 'AWS::NoValue') return;
    if (isObject(s)) out.push(resolve(s) as unknown as ResolvedStatement);
  };
  for (const pol of asList(role.Properties?.Policies))
    if (isObject(pol) && isObject(pol.PolicyDocument)) asList(pol.PolicyDocument.Statement).forEach(visit);
  return out;
}
