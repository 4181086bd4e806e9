// Issue 21: the pure rules behind the operator's first-hour messages, each pinned at its edges.
import { describe, expect, it } from 'vitest';
import { envFileText, parseEnvFile, shellQuote } from '../../lab/lab-env.ts';
import { PlainProgress, ETA_AFTER_MS } from '../../lab/plain-progress.ts';
import { redriveLine } from '../../src/cli/redrive-line.ts';
import { deadLetterAdvice } from '../../src/dashboard/dlq-advice.ts';
import { classFreshness, freshnessHeadline } from '../../src/dashboard/freshness-line.ts';
import { describeLibrarySource, librarySizeSource, sampleSizeProblem } from '../../src/estimate/arguments.ts';
import { describeDrift, queueDrift } from '../../src/ops/queue-drift.ts';
import { accountFiles, countBits, describeAccount, describeClassAccount } from '../../src/views/accounting.ts';
import { freshnessSummary } from '../../src/views/freshness.ts';
import { count } from '../../src/util/plural.ts';

describe('item 4: done + failed + waiting on a failed chunk = total', () => {
  const failedClass = { files: 306, doneFiles: 286, failedFiles: 1, chunks: 16, doneChunks: 15, failedChunks: 1 };

  it("explains the failed chunk's other files as copied and waiting on its redrive", () => {
    expect(describeAccount(failedClass)).toBe(
      '286 done + 1 failed + 19 copied, waiting on the redrive of 1 failed chunk = 306 files',
    );
    const a = accountFiles(failedClass)!;
    expect(a.done + a.failed + a.awaitingRedrive + a.inFlight).toBe(a.total);
    expect(a).toEqual({ done: 286, failed: 1, awaitingRedrive: 19, inFlight: 0, mixed: false, total: 306 });
  });

  it('says nothing when no chunk failed, and tells in-flight files from waiting ones only when it can', () => {
    expect(describeAccount({ ...failedClass, failedFiles: 0, failedChunks: 0 })).toBeUndefined();
    expect(accountFiles({ ...failedClass, failedFiles: 0, failedChunks: 0 })).toBeUndefined();
    // One chunk still in flight beside the failed one: its files and the failed chunk's cannot be told apart.
    const mixed = { ...failedClass, doneChunks: 14, doneFiles: 266 };
    expect(describeAccount(mixed)).toBe(
      '266 done + 1 failed + 39 not counted yet (in flight, or copied and waiting on the redrive of 1 failed chunk) = 306 files',
    );
    expect(accountFiles(mixed)).toMatchObject({ awaitingRedrive: 0, inFlight: 39, mixed: true });
    // A failure recorded before its chunk's bit (its last delivery began): files in flight, not mixed.
    const provisional = { ...failedClass, failedChunks: 0, doneChunks: 15 };
    expect(accountFiles(provisional)).toMatchObject({ inFlight: 19, mixed: false });
    expect(describeAccount(provisional)).toBe('286 done + 1 failed + 19 in flight = 306 files');
    // Two failed chunks, every file of them failed: nothing waits.
    expect(describeAccount({ files: 2, doneFiles: 0, failedFiles: 2, chunks: 2, doneChunks: 0, failedChunks: 2 })).toBe(
      '0 done + 2 failed = 2 files',
    );
    expect(describeAccount({ files: 1, doneFiles: 0, failedFiles: 1, chunks: 1, doneChunks: 0, failedChunks: 1 })).toBe(
      '0 done + 1 failed = 1 file',
    );
  });

  it('a failed chunk whose files did not fail themselves is still told; two failed chunks in the plural', () => {
    expect(describeAccount({ files: 4, doneFiles: 2, failedFiles: 0, chunks: 2, doneChunks: 1, failedChunks: 1 })).toBe(
      '2 done + 0 failed + 2 copied, waiting on the redrive of 1 failed chunk = 4 files',
    );
    expect(
      describeAccount({ files: 10, doneFiles: 4, failedFiles: 2, chunks: 4, doneChunks: 2, failedChunks: 2 }),
    ).toBe('4 done + 2 failed + 4 copied, waiting on the redrive of 2 failed chunks = 10 files');
  });

  it('counts failed chunks from the bit field', () => {
    expect(countBits('')).toBe(0);
    expect(countBits('0000')).toBe(0);
    expect(countBits('8')).toBe(1);
    expect(countBits('f1')).toBe(5);
    expect(countBits('a5')).toBe(4);
    expect(countBits('FF')).toBe(8);
    const v = { files: 10, doneFiles: 5, failedFiles: 1, chunks: 2, doneChunks: 1 };
    expect(describeClassAccount({ ...v, bits: { failed: '40' } })).toBe(
      '5 done + 1 failed + 4 copied, waiting on the redrive of 1 failed chunk = 10 files',
    );
    expect(describeClassAccount({ ...v, bits: null })).toBe('5 done + 1 failed + 4 in flight = 10 files');
  });
});

describe('item 5: DLQ advice from why the messages are there', () => {
  it('a poison message is never told to be redriven', () => {
    const advice = deadLetterAdvice('scan-dlq', 1, [
      { code: 'POISON_MESSAGE', error: 'unknown class nope: no document with that _id in classes' },
    ])!;
    expect(advice).toBe(
      '1 job can never be processed (unknown class nope: no document with that _id in classes): a redrive would only dead-letter it again; delete it from scan-dlq (enqueue the class by its right id)',
    );
    expect(advice).not.toMatch(/flants redrive/);
    expect(
      deadLetterAdvice('scan-dlq', 2, [
        { code: 'POISON_MESSAGE', error: 'scan message is not JSON: "x"' },
        { code: 'POISON_MESSAGE', error: undefined },
      ]),
    ).toBe(
      '2 jobs can never be processed (scan message is not JSON: "x"): a redrive would only dead-letter them again; delete them from scan-dlq',
    );
  });

  it('tells jobs that failed every delivery from those dead-lettered at once, and says how many it read', () => {
    expect(deadLetterAdvice('transfer-dlq', 3, [{ code: undefined, error: undefined }])).toBe(
      '1 job failed on every delivery: fix the cause, then "flants redrive --queue transfer" (the FAILED classes list their failed files and reasons) (reasons read from 1 of 3)',
    );
    expect(
      deadLetterAdvice('crawl-dlq', 2, [
        { code: 'ORIGIN_HTTP_STATUS', error: 'origin answered HTTP 404 for http://o/m.m3u8' },
        { code: undefined, error: undefined },
      ]),
    ).toBe(
      '1 job dead-lettered at once (ORIGIN_HTTP_STATUS: origin answered HTTP 404 for http://o/m.m3u8): fix that cause, then "flants redrive --queue crawl"; 1 job failed on every delivery: fix the cause, then "flants redrive --queue crawl" (the FAILED classes say why their crawl failed)',
    );
    expect(deadLetterAdvice('scan-dlq', 1, [{ code: undefined, error: undefined }])).toMatch(
      /\(see the scanner's logs\)$/,
    );
    expect(deadLetterAdvice('scan-dlq', 1, [{ code: 'X', error: 'e'.repeat(200) }])).toMatch(/e{159}…\): fix/);
    // A reason is cut to 160 characters, the last one an ellipsis; one of 160 is shown whole.
    expect(deadLetterAdvice('scan-dlq', 1, [{ code: 'X', error: 'e'.repeat(161) }])).toContain(
      `(X: ${'e'.repeat(159)}…): fix`,
    );
    expect(deadLetterAdvice('scan-dlq', 1, [{ code: 'X', error: 'e'.repeat(160) }])).toContain(
      `(X: ${'e'.repeat(160)}): fix`,
    );
    expect(deadLetterAdvice('scan-dlq', 1, [{ code: 'X', error: undefined }])).toContain('(X: ): fix');
    // Only a reason that starts with "unknown class" gets the enqueue hint.
    expect(deadLetterAdvice('scan-dlq', 1, [{ code: 'POISON_MESSAGE', error: 'not an unknown class' }])).toMatch(
      /delete it from scan-dlq$/,
    );
    // A DLQ by another name is redriven by the name before its -dlq.
    expect(deadLetterAdvice('custom-dlq', 1)).toContain('"flants redrive --queue custom"');
  });

  it('without the reasons it says where they are and that a poison message is deleted, not redriven', () => {
    expect(deadLetterAdvice('transfer-dlq', 1)).toBe(
      '1 job dead-lettered: each message\'s flants-code and flants-error attributes say why (none: it failed on every delivery; the FAILED classes list their failed files and reasons). Fix the cause, then "flants redrive --queue transfer"; a message with code POISON_MESSAGE can never succeed: delete it instead',
    );
    expect(deadLetterAdvice('transfer-dlq', 2, [])).toMatch(/^2 jobs dead-lettered: /);
    expect(deadLetterAdvice('transfer', 5)).toBeUndefined();
    expect(deadLetterAdvice('transfer-dlq', 0)).toBeUndefined();
    expect(deadLetterAdvice('transfer-dlq', undefined)).toBeUndefined();
  });
});

describe('item 6: queue drift', () => {
  it('names each declared attribute the queue lacks, with both values', () => {
    const changes = queueDrift(
      { VisibilityTimeout: '5', MessageRetentionPeriod: '1209600', DelaySeconds: '0' },
      { VisibilityTimeout: '30', MessageRetentionPeriod: '1209600' },
    );
    expect(changes).toEqual([
      { attribute: 'VisibilityTimeout', from: '30', to: '5' },
      { attribute: 'DelaySeconds', from: undefined, to: '0' },
    ]);
    expect(describeDrift(changes)).toBe('VisibilityTimeout 30 → 5, DelaySeconds (unset) → 0');
    expect(queueDrift({ VisibilityTimeout: '5' }, { VisibilityTimeout: '5' })).toEqual([]);
  });

  it("compares redrive policies by meaning, not by their JSON's spelling", () => {
    const declared = { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: 'arn:dlq', maxReceiveCount: 3 }) };
    expect(queueDrift(declared, { RedrivePolicy: '{"maxReceiveCount":"3","deadLetterTargetArn":"arn:dlq"}' })).toEqual(
      [],
    );
    expect(
      queueDrift(declared, { RedrivePolicy: '{"maxReceiveCount":"5","deadLetterTargetArn":"arn:dlq"}' }),
    ).toHaveLength(1);
    expect(queueDrift(declared, { RedrivePolicy: 'not json' })).toHaveLength(1);
    expect(queueDrift(declared, {})).toEqual([
      { attribute: 'RedrivePolicy', from: undefined, to: declared.RedrivePolicy },
    ]);
  });
});

describe('item 7: estimate arguments', () => {
  it('refuses one master URL for a larger library before any request, naming the flags', () => {
    expect(sampleSizeProblem(1, undefined, true)).toBe(
      "one master URL gives no range for the catalog's library (MONGODB_URI is set): the spread between classes needs at least 2 sampled classes. Give two or more master URLs, or --classes 1 to measure this one class alone",
    );
    expect(sampleSizeProblem(1, 300, false)).toMatch(
      /^one master URL gives no range for a library of 300 classes \(--classes\)/,
    );
    expect(sampleSizeProblem(1, 1, true)).toBeUndefined();
    expect(sampleSizeProblem(1, undefined, false)).toBeUndefined();
    expect(sampleSizeProblem(2, 300, true)).toBeUndefined();
    expect(sampleSizeProblem(0, undefined, true)).toBeUndefined();
  });

  it('says where the library size came from', () => {
    expect(librarySizeSource(3, 300, true)).toBe('flag');
    expect(librarySizeSource(0, undefined, true)).toBe('catalog');
    expect(librarySizeSource(3, undefined, true)).toBe('catalog');
    expect(librarySizeSource(3, undefined, false)).toBe('urls');
    // No URLs to stand for the library: its size comes from the catalog, with or without one configured.
    expect(librarySizeSource(0, undefined, false)).toBe('catalog');
    expect(describeLibrarySource('flag')).toBe('as --classes says');
    expect(describeLibrarySource('catalog')).toBe(
      "the catalog's valid classes (MONGODB_URI; --classes sets another size)",
    );
    expect(describeLibrarySource('urls')).toBe('the URLs given, as the whole library (--classes sets its size)');
  });
});

describe('item 3: freshness on the page and in status --watch', () => {
  const now = new Date('2026-12-07T12:00:00Z');
  const done = (classId: string, freshnessSeconds: number) => ({
    classId,
    status: 'COMPLETE' as const,
    completedAt: '2026-12-07T11:00:00Z',
    freshnessSeconds,
  });

  it('shows the 24-hour median, p95 and worst with the worst class', () => {
    expect(freshnessHeadline(freshnessSummary([done('a', 20), done('b', 22), done('c', 57)], now))).toBe(
      'Freshness (class end → COMPLETE, last 24 h, 3 classes): median 22 s, p95 57 s, worst 57 s (c)',
    );
    expect(freshnessHeadline(freshnessSummary([done('a', 90)], now))).toBe(
      'Freshness (class end → COMPLETE, last 24 h, 1 class): median 1.5 min, p95 1.5 min, worst 1.5 min (a)',
    );
    expect(freshnessHeadline(freshnessSummary([], now))).toBe(
      'Freshness (class end → COMPLETE, last 24 h): no class completed',
    );
    expect(freshnessHeadline(undefined)).toBe('');
  });

  it("shows a class's own freshness once it has one", () => {
    expect(classFreshness(22)).toBe('fresh in 22 s');
    expect(classFreshness(undefined)).toBe('');
  });
});

describe('item 9: plurals, redrive lines and plain progress', () => {
  it('puts the noun in the right number', () => {
    expect(count(0, 'class', 'classes')).toBe('0 classes');
    expect(count(1, 'class', 'classes')).toBe('1 class');
    expect(count(2, 'message')).toBe('2 messages');
  });

  it('says what redrive moved, or that there was nothing to move', () => {
    expect(redriveLine({ role: 'transfer', lane: 'bulk', method: 'copy', moved: 1 }, 'q', 'q-dlq')).toBe(
      'transfer: moved 1 message back to q',
    );
    expect(redriveLine({ role: 'transfer', lane: 'bulk', method: 'copy', moved: 2 }, 'q', 'q-dlq')).toBe(
      'transfer: moved 2 messages back to q',
    );
    expect(redriveLine({ role: 'scan', lane: 'bulk', method: 'move-task', moved: 0 }, 'q', 'q-dlq')).toBe(
      'scan: nothing to move (q-dlq is empty)',
    );
    expect(
      redriveLine({ role: 'crawl', lane: 'bulk', method: 'move-task', moved: 1, taskHandle: 'h' }, 'q', 'q-dlq'),
    ).toBe('crawl: SQS move task started for 1 message from q-dlq to q (task h)');
    expect(redriveLine({ role: 'crawl', lane: 'bulk', method: 'move-task', moved: 3 }, 'q', 'q-dlq')).toBe(
      'crawl: SQS move task started for 3 messages from q-dlq to q',
    );
    expect(redriveLine({ role: 'crawl', lane: 'fresh', method: 'copy', moved: 1 }, 'f', 'f-dlq')).toBe(
      'crawl (fresh lane): moved 1 message back to f',
    );
  });

  it('prints progress lines without a terminal: no guess before a rate, no line twice, the end once', () => {
    const pp = new PlainProgress(5_000);
    const p = (filesDone: number, classesComplete = 0) => ({
      filesDone,
      filesTotal: 100,
      classesComplete,
      classesTotal: 2,
      bytesDone: filesDone * 1e5,
    });
    expect(pp.line({ ...p(0), filesTotal: 0 }, 0)).toBeUndefined();
    expect(pp.line(p(0), 1_000)).toBe('transfer 0/100 files (0%) · 0/2 classes complete · 0.0 MB');
    expect(pp.line(p(10), 2_000)).toBeUndefined(); // too soon
    expect(pp.line(p(10), 1_000 + ETA_AFTER_MS + 2_000)).toBe(
      'transfer 10/100 files (10%) · 0/2 classes complete · 1.0 MB · about 45 s left',
    );
    expect(pp.line(p(10), 20_000)).toBeUndefined(); // nothing moved
    expect(pp.line(p(100, 2), 20_500)).toBe('transfer 100/100 files (100%) · 2/2 classes complete · 10.0 MB');
    expect(pp.line(p(100, 2), 30_000)).toBeUndefined(); // the 100 % line once
  });

  it('shows no time left until progress was measured for a while', () => {
    const pp = new PlainProgress(0);
    const p = (filesDone: number) => ({ filesDone, filesTotal: 10, classesComplete: 0, classesTotal: 1, bytesDone: 0 });
    pp.line(p(0), 0);
    expect(pp.line(p(1), ETA_AFTER_MS - 1)).toBe('transfer 1/10 files (10%) · 0/1 classes complete · 0.0 MB');
    expect(pp.line(p(2), ETA_AFTER_MS)).toBe(
      'transfer 2/10 files (20%) · 0/1 classes complete · 0.0 MB · about 12 s left',
    );
    const stalled = new PlainProgress(0);
    stalled.line(p(3), 0);
    expect(stalled.line({ ...p(3), bytesDone: 1e6 }, 10_000)).toBe(
      'transfer 3/10 files (30%) · 0/1 classes complete · 1.0 MB',
    );
  });
});

describe('item 1: the env file lab up writes', () => {
  it('quotes values for a shell and reads them back', () => {
    expect(shellQuote('http://127.0.0.1:4566')).toBe('http://127.0.0.1:4566');
    expect(shellQuote("it's a b")).toBe(`'it'\\''s a b'`);
    expect(shellQuote('')).toBe("''");
    const env = { B: 'two words', A: 'mongodb://127.0.0.1:1/flants', C: "o'k" };
    const text = envFileText(env, ['made by a test']);
    expect(text).toBe(
      "# made by a test\nexport A=mongodb://127.0.0.1:1/flants\nexport B='two words'\nexport C='o'\\''k'\n",
    );
    expect(parseEnvFile(text)).toEqual(env);
    expect(() => envFileText({ 'BAD-NAME': 'x' })).toThrow('not a shell variable name: "BAD-NAME"');
    expect(() => parseEnvFile('A=1')).toThrow('not an "export NAME=value" line: A=1');
  });
});
