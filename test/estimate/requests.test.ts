import { describe, expect, it } from 'vitest';
import { byteRangeEnds } from '../../src/estimate/byterange.ts';
import {
  classRequests,
  dynamoItemBytes,
  idlePollRequests,
  s3RequestsForFile,
  scanRequests,
  sqsBilled,
  sqsSendBilled,
  transferDeliveries,
  type JobFile,
} from '../../src/estimate/requests.ts';

const MiB = 1024 * 1024;

describe('estimate request model', () => {
  it('S3: one PutObject up to the part size, else Create + parts + Complete', () => {
    expect(s3RequestsForFile(1, 16 * MiB)).toBe(1);
    expect(s3RequestsForFile(16 * MiB, 16 * MiB)).toBe(1);
    // 16 MiB + 1 byte: 2 parts, plus Create and Complete.
    expect(s3RequestsForFile(16 * MiB + 1, 16 * MiB)).toBe(4);
    // 100 MiB / 16 MiB = 6.25 → 7 parts.
    expect(s3RequestsForFile(100 * MiB, 16 * MiB)).toBe(9);
  });

  it('SQS bills every 64 KiB of a call as one request', () => {
    expect(sqsBilled(0)).toBe(1);
    expect(sqsBilled(65_536)).toBe(1);
    expect(sqsBilled(65_537)).toBe(2);
    // 25 messages of 10,000 bytes: calls of 10 (100,000 B → 2), 10 (→ 2), 5 (50,000 B → 1).
    expect(sqsSendBilled(new Array<number>(25).fill(10_000))).toEqual({ calls: 3, billed: 5 });
    // 100 KiB messages: only 2 fit the 256 KiB batch; 204,800 B → 4, 4, then 102,400 B → 2.
    expect(sqsSendBilled(new Array<number>(5).fill(102_400))).toEqual({ calls: 3, billed: 10 });
    // 20 jobs of 10,000 bytes in batches of 8: 3 invocations, each receive of 80,000 B billed as 2; one delete each.
    expect(transferDeliveries(20, 200_000, 8)).toEqual({ invocations: 3, receiveBilled: 6, deletes: 3 });
    expect(transferDeliveries(0, 0, 8)).toEqual({ invocations: 0, receiveBilled: 0, deletes: 0 });
  });

  it('DynamoDB item sizes: names plus values', () => {
    expect(dynamoItemBytes({ pk: 'CLASS#a' })).toBe(2 + 7);
    // 12345: 5 digits → ceil(5/2) + 1 = 4 bytes.
    expect(dynamoItemBytes({ n: 12345 })).toBe(1 + 4);
    // A list: 3 + (1 + 2) + (1 + 1); a map: 3 + (1 + 1 + 1).
    expect(dynamoItemBytes({ l: ['ab', 'c'] })).toBe(1 + 8);
    expect(dynamoItemBytes({ m: { k: 'x' } })).toBe(1 + 6);
    expect(dynamoItemBytes({ t: true, u: undefined })).toBe(2);
  });

  it('one class: chunks, transfer invocations, SQS and ledger requests as the pipeline makes them', () => {
    const files: JobFile[] = Array.from({ length: 6 }, (_, i) => ({
      src: `https://cdn.example/v/${i}.ts`,
      key: `v/${i}.ts`,
      kind: 'segment',
    }));
    const r = classRequests(
      { classId: 'c1', title: 'A class', manifestUrl: 'https://cdn.example/v/master.m3u8', files, etagBytes: 32 },
      { chunkFiles: 3 },
    );
    expect(r.chunks).toBe(2);
    // Every item here is under 1 KB. Class level: markPending (one write), getClass, markCrawling and
    // recordPlan (read + write each) = 6 requests; per chunk a batch read and a transaction.
    expect(r.dynamodb.requests).toBe(6 + 2 * 2);
    // 3 reads of the class item; per chunk the class item and the chunk item's miss.
    expect(r.dynamodb.readUnits).toBe(3 + 2 * 2);
    // 3 class-item writes, each also to the index (6); per chunk: chunk item ×2 (transaction) + class item ×2 + index copy.
    expect(r.dynamodb.writeUnits).toBe(6 + 2 * (2 + 2 + 1));
    // Transfer: both jobs in one send. Crawl: a tenth of a send batch, a receive and a delete.
    expect(r.sqs.transferSend).toBe(1);
    expect(r.transferMessageBytes).toBeGreaterThan(2 * 3 * 50);
    expect(r.sqs.crawl).toBeCloseTo(2.1, 10);
  });

  it('scan pages: one message, a claim, a batch read per 100 ready classes and a page record each', () => {
    // 1,000 documents in pages of 500, plus the string-id phase page: 3 pages, 300 ready classes each.
    const s = scanRequests(1000, 900, 500);
    expect(s.pages).toBe(3);
    expect(s.sqs).toBe(9);
    expect(s.invocations).toBe(3);
    // Per page a claim, a record and 3 batch reads (300 ready classes).
    expect(s.dynamodb.requests).toBe(3 * 2 + 3 * 3);
    expect(s.dynamodb.readUnits).toBe(900);
    // Claim 1 unit; page record: 200 + 334 ids × 26 bytes = 8,884 bytes → 9 write units.
    expect(s.dynamodb.writeUnits).toBe(3 * (1 + 9));
    // 3 queues × 5 pollers × one 20 s long poll: 2,700 in an hour.
    expect(idlePollRequests(3600)).toBe(2700);
  });

  it('byte ranges give the size of byte-ranged files', () => {
    const text = [
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-MAP:URI="main.mp4",BYTERANGE="720@0"',
      '#EXT-X-BYTERANGE:1000@720',
      '#EXTINF:6,',
      'main.mp4',
      '#EXT-X-BYTERANGE:1200',
      '#EXTINF:6,',
      'main.mp4',
      '#EXTINF:6,',
      'other.ts',
      '#EXT-X-BYTERANGE:50@10',
      '#EXTINF:6,',
      '{$name}.mp4',
      '#EXT-X-BYTERANGE:300',
      '#EXTINF:6,',
      'fresh.mp4',
    ].join('\n');
    const ends = byteRangeEnds(text, new URL('https://cdn.example/v/720p/index.m3u8'));
    // 720 (init) + 1000 + 1200 (continuing where the previous range ended).
    expect(ends.get('https://cdn.example/v/720p/main.mp4')).toBe(2920);
    // Without an offset and a different previous resource, a range starts at 0.
    expect(ends.get('https://cdn.example/v/720p/fresh.mp4')).toBe(300);
    expect(ends.has('https://cdn.example/v/720p/other.ts')).toBe(false);
    expect([...ends.keys()].some((k) => k.includes('name'))).toBe(false);
  });
});
