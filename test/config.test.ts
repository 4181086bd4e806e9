import { describe, expect, it } from 'vitest';
import { loadConfig, parseAllowedHosts } from '../src/config.ts';
import { normalizePrefix } from '../src/domain/planning/prefix.ts';
import { ConfigError } from '../src/errors.ts';

const base = { AWS_REGION: 'eu-west-1', ORIGIN_ALLOWED_HOSTS: 'cdn.example.com' };

describe('config', () => {
  it('derives resource names from the stage', () => {
    const c = loadConfig({ ...base, FLANTS_STAGE: 'prod' });
    expect(c.queueNames.transfer).toEqual({ queue: 'flants-prod-transfer', dlq: 'flants-prod-transfer-dlq' });
    expect(c.tableName).toBe('flants-prod-ledger');
    expect(c.destBucket).toBe('flants-prod-media');
    expect(c.mongo.collection).toBe('classes');
  });

  it('reads changes by updatedAt then endedAt with a 10-minute overlap, and checks every file, unless told otherwise', () => {
    expect(loadConfig(base).scan).toMatchObject({ changeFields: ['updatedAt', 'endedAt'], overlapSeconds: 600 });
    expect(loadConfig({ ...base, SCAN_CHANGE_FIELDS: 'endedAt', SCAN_OVERLAP_SECONDS: '0' }).scan).toMatchObject({
      changeFields: ['endedAt'],
      overlapSeconds: 0,
    });
    expect(loadConfig({ ...base, CATALOG_FIELDS: 'updatedAt=modified' }).mongo.fields.updatedAt).toBe('modified');
    expect(loadConfig(base).recheck).toEqual({ files: 'all', concurrency: 16 });
    expect(loadConfig({ ...base, RECHECK_FILES: 'playlists' }).recheck.files).toBe('playlists');
  });

  it('leaves the region unset when nothing names it, for commands that never reach AWS', () => {
    expect(loadConfig({}).region).toBeUndefined();
    expect(loadConfig({ AWS_DEFAULT_REGION: 'us-east-2' }).region).toBe('us-east-2');
  });

  it('names the variable in every error', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ AWS_REGION: 'mars' }, /AWS_REGION must be a region/],
      [{ ...base, FLANTS_STAGE: 'Prod!' }, /FLANTS_STAGE/],
      [{ ...base, TRANSFER_CHUNK_FILES: 'ten' }, /TRANSFER_CHUNK_FILES must be a whole number/],
      [{ ...base, TRANSFER_CHUNK_FILES: '0' }, /TRANSFER_CHUNK_FILES must be between 1 and 500/],
      [{ ...base, MONGODB_URI: 'postgres://x' }, /MONGODB_URI/],
      [{ ...base, DEST_PREFIX: 'a/../b' }, /DEST_PREFIX/],
      [{ ...base, ORIGIN_ALLOWED_HOSTS: 'http://cdn.example.com/' }, /ORIGIN_ALLOWED_HOSTS/],
      [{ ...base, DEST_BUCKET: 'No_Such' }, /DEST_BUCKET/],
      [{ ...base, CATALOG_FIELDS: 'colour=hue' }, /CATALOG_FIELDS/],
      [{ ...base, AWS_S3_FORCE_PATH_STYLE: 'maybe' }, /AWS_S3_FORCE_PATH_STYLE/],
      [{ ...base, SCAN_CHANGE_FIELDS: 'modified' }, /SCAN_CHANGE_FIELDS must list updatedAt and\/or endedAt/],
      [{ ...base, SCAN_CHANGE_FIELDS: 'endedAt,endedAt' }, /SCAN_CHANGE_FIELDS/],
      [{ ...base, SCAN_OVERLAP_SECONDS: '-1' }, /SCAN_OVERLAP_SECONDS/],
      [{ ...base, RECHECK_FILES: 'some' }, /RECHECK_FILES must be one of all, playlists/],
    ];
    for (const [env, message] of cases) {
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(ConfigError);
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(message);
    }
  });

  it('refuses limits whose classes the ledger cannot hold: more chunks per class than its keys order (issue 18, case 6)', () => {
    // 10,000,000 files in chunks of 1 would be ten million chunks; the ledger orders at most 1,000,000.
    expect(() => loadConfig({ ...base, HLS_MAX_FILES: '10000000', TRANSFER_CHUNK_FILES: '1' })).toThrow(
      /HLS_MAX_FILES \/ TRANSFER_CHUNK_FILES .*10000000 chunks.*at most 1000000/,
    );
    expect(loadConfig({ ...base, HLS_MAX_FILES: '1000000', TRANSFER_CHUNK_FILES: '1' }).hls.maxFiles).toBe(1_000_000);
    expect(loadConfig({ ...base, HLS_MAX_FILES: '10000000', TRANSFER_CHUNK_FILES: '10' }).hls.maxFiles).toBe(
      10_000_000,
    );
  });

  it('normalises the destination prefix and refuses escapes', () => {
    expect(normalizePrefix('')).toBe('');
    expect(normalizePrefix('/media/hls/')).toBe('media/hls/');
    expect(() => normalizePrefix('media/./x')).toThrow(ConfigError);
    expect(() => normalizePrefix('..')).toThrow(ConfigError);
  });

  it('parses allowed hosts, ports and wildcards', () => {
    expect(parseAllowedHosts(' CDN.example.com, 127.0.0.1:8080 ,*.akamai.net')).toEqual([
      'cdn.example.com',
      '127.0.0.1:8080',
      '*.akamai.net',
    ]);
  });

  it('uses path-style S3 addressing when a local S3 endpoint is configured', () => {
    expect(loadConfig(base).forcePathStyle).toBe(false);
    expect(loadConfig({ ...base, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4566' }).forcePathStyle).toBe(true);
  });

  it('reads catalog field names', () => {
    const c = loadConfig({ ...base, CATALOG_FIELDS: 'manifestUrl=hls, endedAt=finishedAt' });
    expect(c.mongo.fields.manifestUrl).toBe('hls');
    expect(c.mongo.fields.endedAt).toBe('finishedAt');
    expect(c.mongo.fields.title).toBe('title');
  });
});
