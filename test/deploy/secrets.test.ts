// The MongoDB URI on Lambda: read from SSM Parameter Store when the catalog is opened, never echoed.
import { type GetParameterCommand } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createSsmParameterReader, resolveMongoUri, type ParameterReader } from '../../src/adapters/ssm/secrets.ts';

const SECRET = 'mongodb+srv://flants:p4ss@cluster0.example.net/catalog';

function fakeReader(values: Record<string, string>, calls: string[] = []): ParameterReader {
  return {
    async getParameter(name) {
      calls.push(name);
      const v = values[name];
      if (v === undefined) throw new Error(`ParameterNotFound: ${name}`);
      return v;
    },
  };
}

describe('MONGODB_URI_SSM_PARAM', () => {
  it('is read from the environment and validated as a parameter name', () => {
    expect(loadConfig({ MONGODB_URI_SSM_PARAM: '/flants/prod/mongodb-uri' }).mongo.uriSsmParam).toBe(
      '/flants/prod/mongodb-uri',
    );
    expect(loadConfig({}).mongo.uriSsmParam).toBeUndefined();
    expect(() => loadConfig({ MONGODB_URI_SSM_PARAM: 'not a name!' })).toThrow(/MONGODB_URI_SSM_PARAM/);
  });
});

describe('resolveMongoUri', () => {
  it('prefers MONGODB_URI (local runs) and never asks SSM then', async () => {
    const calls: string[] = [];
    const cfg = loadConfig({ MONGODB_URI: 'mongodb://127.0.0.1:1/x', MONGODB_URI_SSM_PARAM: '/p' });
    expect(await resolveMongoUri(cfg, fakeReader({}, calls))).toBe('mongodb://127.0.0.1:1/x');
    expect(calls).toEqual([]);
  });

  it('reads the SSM parameter when the catalog is opened (once per container: its owner keeps the catalog)', async () => {
    const calls: string[] = [];
    const cfg = loadConfig({ AWS_REGION: 'eu-west-1', MONGODB_URI_SSM_PARAM: '/flants/prod/mongodb-uri' });
    const reader = fakeReader({ '/flants/prod/mongodb-uri': `${SECRET}\n` }, calls);
    expect(await resolveMongoUri(cfg, reader)).toBe(SECRET);
    expect(calls).toEqual(['/flants/prod/mongodb-uri']);
  });

  it('forgets a failed read, so the next invocation tries again', async () => {
    const cfg = loadConfig({ AWS_REGION: 'eu-west-1', MONGODB_URI_SSM_PARAM: '/p' });
    let fail = true;
    const reader: ParameterReader = {
      async getParameter() {
        if (fail) throw new Error('ThrottlingException');
        return SECRET;
      },
    };
    await expect(resolveMongoUri(cfg, reader)).rejects.toThrow(/Throttling/);
    fail = false;
    expect(await resolveMongoUri(cfg, reader)).toBe(SECRET);
  });

  it('refuses a value that is not a MongoDB URI without echoing it', async () => {
    const cfg = loadConfig({ AWS_REGION: 'eu-west-1', MONGODB_URI_SSM_PARAM: '/p' });
    const err = await resolveMongoUri(cfg, fakeReader({ '/p': 'postgres://user:hunter2@db/x' })).catch(
      (e: unknown) => e as Error,
    );
    expect(String(err)).toMatch(/SSM parameter \/p .* must hold a mongodb/);
    expect(String(err)).not.toContain('hunter2');
  });

  it('names both variables when neither is set', async () => {
    await expect(resolveMongoUri(loadConfig({}))).rejects.toThrow(/MONGODB_URI.*MONGODB_URI_SSM_PARAM/);
  });
});

describe('createSsmParameterReader', () => {
  it('asks for decryption and returns the value', async () => {
    const sent: GetParameterCommand[] = [];
    const reader = createSsmParameterReader({
      region: 'eu-west-1',
      client: {
        send: (async (cmd: GetParameterCommand) => {
          sent.push(cmd);
          return { Parameter: { Value: SECRET } };
        }) as never,
      },
    });
    expect(await reader.getParameter('/p')).toBe(SECRET);
    expect(sent[0]!.input).toEqual({ Name: '/p', WithDecryption: true });
  });

  it('names the parameter in errors, marks a missing parameter as not retryable and an outage as retryable', async () => {
    const failing = (name: string) =>
      createSsmParameterReader({
        region: 'eu-west-1',
        client: {
          send: (async () => {
            throw Object.assign(new Error('boom'), { name });
          }) as never,
        },
      });
    await expect(failing('ParameterNotFound').getParameter('/p')).rejects.toMatchObject({
      code: 'SECRET_UNAVAILABLE',
      retryable: false,
      message: expect.stringContaining('/p'),
    });
    await expect(failing('InternalServerError').getParameter('/p')).rejects.toMatchObject({ retryable: true });
  });
});
