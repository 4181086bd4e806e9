// The template checks themselves, on small hand-made templates: each rule must catch what it is
// for, and must not flag what AWS requires (PutMetricData on "*", one log group, one bucket prefix).
import { describe, expect, it } from 'vitest';
import { checkAgainstSpec, checkReferences, subPlaceholders, type JsonObject, type Template } from './cfn.ts';
import { checkIamWildcards, checkTrustPolicies, permissionsOfRole } from './iam.ts';

const queue = { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'q', VisibilityTimeout: 60 } };
const tpl = (resources: Template['Resources'], extra: Partial<Template> = {}): Template => ({
  Resources: resources,
  ...extra,
});

function roleWith(
  statement: JsonObject,
  trust: JsonObject = { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
): Template {
  return tpl({
    Q: queue,
    R: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [trust] },
        Policies: [{ PolicyName: 'p', PolicyDocument: { Version: '2012-10-17', Statement: [statement] } }],
      },
    },
  });
}

describe('spec check', () => {
  it('accepts a valid resource', () => {
    expect(checkAgainstSpec(tpl({ Q: queue }))).toEqual([]);
  });

  it('catches an unknown type, an unknown or misspelt property, a wrong type, a missing required property', () => {
    const errors = checkAgainstSpec(
      tpl({
        A: { Type: 'AWS::SQS::Queueue', Properties: {} },
        B: { Type: 'AWS::SQS::Queue', Properties: { VisibilityTimeOut: 60 } },
        C: {
          Type: 'AWS::DynamoDB::Table',
          Properties: {
            KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: 'yes' },
          },
        },
        D: { Type: 'AWS::Lambda::Function', Properties: { Code: { ZipFile: 'x' } } },
        E: { Type: 'AWS::Events::Rule', Properties: { ScheduleExpression: 'rate(1 hour)', State: 'ON' } },
        F: { Type: 'AWS::SQS::Queue', Propertie: {} },
      }),
    );
    const text = errors.join('\n');
    expect(text).toContain('A: unknown resource type AWS::SQS::Queueue');
    expect(text).toContain('unknown property "VisibilityTimeOut"');
    expect(text).toMatch(/PointInTimeRecoveryEnabled: expected a boolean/);
    expect(text).toContain('required property "Role" is missing');
    expect(text).toMatch(/State: "ON" is not one of/);
    expect(text).toContain('F: unknown resource attribute "Propertie"');
  });

  it('checks both branches of Fn::If and lets other intrinsics through', () => {
    const errors = checkAgainstSpec(
      tpl({
        Q: {
          Type: 'AWS::SQS::Queue',
          Properties: {
            VisibilityTimeout: { 'Fn::If': ['C', 'sixty', { Ref: 'AWS::NoValue' }] },
            QueueName: { 'Fn::Sub': '${AWS::StackName}-q' },
          },
        },
      }),
    );
    expect(errors.join('\n')).toMatch(/VisibilityTimeout: expected a number/);
  });
});

describe('reference check', () => {
  it('accepts resources, parameters, pseudo parameters, GetAtt attributes and Fn::Sub placeholders', () => {
    const t = tpl(
      {
        Q: queue,
        P: {
          Type: 'AWS::SQS::QueuePolicy',
          DependsOn: 'Q',
          Properties: {
            Queues: [{ Ref: 'Q' }],
            PolicyDocument: {
              Statement: [{ Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:x:${Q.Arn}:${Name}:${!Literal}' } }],
            },
          },
        },
      },
      { Parameters: { Name: { Type: 'String' } } },
    );
    expect(checkReferences(t)).toEqual([]);
  });

  it('catches a missing Ref, GetAtt, Sub and DependsOn target, an unknown attribute and an unknown condition', () => {
    const t = tpl({
      Q: queue,
      P: {
        Type: 'AWS::SQS::QueuePolicy',
        DependsOn: ['Gone'],
        Condition: 'Nope',
        Properties: {
          Queues: [{ Ref: 'Missing' }],
          PolicyDocument: {
            Statement: [
              {
                Resource: [
                  { 'Fn::GetAtt': ['Q', 'Arnn'] },
                  { 'Fn::GetAtt': ['X', 'Arn'] },
                  { 'Fn::Sub': '${Y.Arn}/*' },
                  { 'Fn::If': ['Maybe', 'a', 'b'] },
                ],
              },
            ],
          },
        },
      },
    });
    const text = checkReferences(t).join('\n');
    for (const s of [
      'Ref Missing',
      'Fn::GetAtt X.Arn',
      'Fn::Sub ${Y.Arn}',
      'DependsOn Gone',
      'for "Arnn"',
      'unknown Condition "Nope"',
      'unknown condition "Maybe"',
    ])
      expect(text).toContain(s);
  });

  it('catches a reference to a conditional resource from where its condition may not hold', () => {
    const conditional = { ...queue, Condition: 'Make' };
    const bad = tpl(
      {
        Q: conditional,
        P: { Type: 'AWS::SQS::QueuePolicy', Properties: { Queues: [{ Ref: 'Q' }], PolicyDocument: {} } },
      },
      { Conditions: { Make: { 'Fn::Equals': ['a', 'a'] } } },
    );
    expect(checkReferences(bad).join('\n')).toContain('exists only if Make');
    const sameCondition = tpl(
      {
        Q: conditional,
        P: {
          Type: 'AWS::SQS::QueuePolicy',
          Condition: 'Make',
          Properties: { Queues: [{ Ref: 'Q' }], PolicyDocument: {} },
        },
      },
      { Conditions: { Make: { 'Fn::Equals': ['a', 'a'] } } },
    );
    expect(checkReferences(sameCondition)).toEqual([]);
    const insideIf = tpl(
      {
        Q: conditional,
        P: {
          Type: 'AWS::SQS::QueuePolicy',
          Properties: { Queues: [{ 'Fn::If': ['Make', { Ref: 'Q' }, 'other'] }], PolicyDocument: {} },
        },
      },
      { Conditions: { Make: { 'Fn::Equals': ['a', 'a'] } } },
    );
    expect(checkReferences(insideIf)).toEqual([]);
  });

  it('reads Fn::Sub placeholders, skipping ${!Literal}', () => {
    expect(subPlaceholders('a${AWS::Region}b${X.Arn}${!Not}')).toEqual(['AWS::Region', 'X.Arn']);
  });
});

describe('IAM check', () => {
  const allow = (Action: JsonObject[string], Resource: JsonObject[string]): JsonObject => ({
    Effect: 'Allow',
    Action,
    Resource,
  });

  it('catches wildcard actions and service-wide actions', () => {
    expect(checkIamWildcards(roleWith(allow('*', { 'Fn::GetAtt': ['Q', 'Arn'] }))).join()).toContain(
      'wildcard action "*"',
    );
    expect(checkIamWildcards(roleWith(allow(['sqs:*'], { 'Fn::GetAtt': ['Q', 'Arn'] }))).join()).toContain(
      'wildcard action "sqs:*"',
    );
    expect(checkIamWildcards(roleWith(allow(['sqs:Send*'], { 'Fn::GetAtt': ['Q', 'Arn'] }))).join()).toContain(
      'wildcard action "sqs:Send*"',
    );
    expect(checkIamWildcards(roleWith({ Effect: 'Allow', NotAction: 'iam:*', Resource: 'x' })).join()).toContain(
      'NotAction',
    );
  });

  it('catches wildcard resources, in plain strings and in Fn::Sub, and in either branch of Fn::If', () => {
    expect(checkIamWildcards(roleWith(allow('sqs:SendMessage', '*'))).join()).toContain('wildcard resource "*"');
    expect(
      checkIamWildcards(
        roleWith(
          allow('dynamodb:GetItem', {
            'Fn::Sub': 'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/*',
          }),
        ),
      ).join(),
    ).toContain('wildcard resource');
    expect(checkIamWildcards(roleWith(allow('s3:ListBucket', 'arn:aws:s3:::*'))).join()).toContain('wildcard resource');
    expect(
      checkIamWildcards(
        roleWith({ 'Fn::If': ['C', allow('sqs:SendMessage', 'arn:aws:sqs:*'), { Ref: 'AWS::NoValue' }] }),
      ).join(),
    ).toContain('wildcard resource');
  });

  it('allows only what AWS defines on "*" (PutMetricData), one log group\'s streams and one bucket prefix', () => {
    expect(checkIamWildcards(roleWith(allow('cloudwatch:PutMetricData', '*')))).toEqual([]);
    expect(
      checkIamWildcards(
        roleWith(
          allow(['logs:CreateLogStream', 'logs:PutLogEvents'], {
            'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/f:*',
          }),
        ),
      ),
    ).toEqual([]);
    expect(
      checkIamWildcards(
        roleWith(allow(['s3:PutObject'], { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::media-bucket/hls/*' })),
      ),
    ).toEqual([]);
    // ...but not other actions on them, nor a wildcard in the bucket name.
    expect(checkIamWildcards(roleWith(allow(['cloudwatch:PutMetricData', 'sqs:SendMessage'], '*')))).not.toEqual([]);
    expect(
      checkIamWildcards(roleWith(allow(['logs:DeleteLogGroup'], 'arn:aws:logs:us-east-1:1:log-group:f:*'))),
    ).not.toEqual([]);
    expect(checkIamWildcards(roleWith(allow(['s3:PutObject'], 'arn:aws:s3:::media-*/hls/*')))).not.toEqual([]);
  });

  it('catches a public Allow in a resource policy, and lets a Deny use wildcards', () => {
    const policy = (statement: JsonObject): Template =>
      tpl({
        Q: queue,
        P: {
          Type: 'AWS::SQS::QueuePolicy',
          Properties: { Queues: [{ Ref: 'Q' }], PolicyDocument: { Statement: [statement] } },
        },
      });
    expect(
      checkIamWildcards(
        policy({
          Effect: 'Allow',
          Principal: '*',
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': ['Q', 'Arn'] },
        }),
      ).join(),
    ).toContain('public');
    expect(
      checkIamWildcards(
        policy({
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': ['Q', 'Arn'] },
        }),
      ).join(),
    ).toContain('public');
    expect(checkIamWildcards(policy({ Effect: 'Deny', Principal: '*', Action: 'sqs:*', Resource: '*' }))).toEqual([]);
  });

  it('catches a role that trusts anything but Lambda', () => {
    expect(checkTrustPolicies(roleWith(allow('sqs:SendMessage', 'x')))).toEqual([]);
    expect(
      checkTrustPolicies(
        roleWith(allow('sqs:SendMessage', 'x'), {
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::1:root' },
          Action: 'sts:AssumeRole',
        }),
      ),
    ).not.toEqual([]);
  });

  it('summarises a role as {resource: actions}, marking conditional statements', () => {
    const t = roleWith({
      'Fn::If': [
        'C',
        allow(['sqs:SendMessage', 'sqs:GetQueueAttributes'], { 'Fn::GetAtt': ['Q', 'Arn'] }),
        { Ref: 'AWS::NoValue' },
      ],
    });
    expect(permissionsOfRole(t, 'R')).toEqual({ 'if C: Q.Arn': 'sqs:GetQueueAttributes,sqs:SendMessage' });
  });
});
