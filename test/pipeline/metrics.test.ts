import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it, vi } from 'vitest';
import { createPipelineEvents } from '../../src/pipeline/events.ts';
import { attachMetrics } from '../../src/pipeline/metrics.ts';

describe('pipeline metrics (Powertools, Embedded Metric Format)', () => {
  it('turns pipeline events into CloudWatch metrics, and stops when detached', () => {
    const events = createPipelineEvents();
    const metrics = new Metrics({
      namespace: 'FLAnts',
      serviceName: 'flants-transfer',
      defaultDimensions: { stage: 'test' },
    });
    const detach = attachMetrics(events, metrics);
    events.emit('chunkCounted', { classId: 'c', gen: 1, chunk: 0, files: 25, bytes: 1_000_000 });
    events.emit('chunkCounted', { classId: 'c', gen: 1, chunk: 1, files: 5, bytes: 200 });
    events.emit('retry', { stage: 'transfer', src: 'http://o/a.ts', error: new Error('503') });
    events.emit('deliveryFailed', { stage: 'transfer', final: false });
    events.emit('deliveryFailed', { stage: 'transfer', final: true });
    events.emit('classComplete', { classId: 'c', gen: 1, freshnessSeconds: 93 });
    detach();
    events.emit('retry', { stage: 'transfer', src: 'http://o/b.ts', error: new Error('503') });
    const emf = metrics.serializeMetrics() as unknown as Record<string, unknown> & {
      _aws: { CloudWatchMetrics: Array<{ Namespace: string; Metrics: Array<{ Name: string; Unit: string }> }> };
    };
    expect(emf._aws.CloudWatchMetrics[0]!.Namespace).toBe('FLAnts');
    expect(emf.FilesCopied).toEqual([25, 5]);
    expect(emf.BytesCopied).toEqual([1_000_000, 200]);
    expect(emf.Retries).toBe(1);
    expect(emf.DeliveriesFailed).toBe(1);
    expect(emf.LastDeliveriesFailed).toBe(1);
    expect(emf.ClassesCompleted).toBe(1);
    expect(emf.FreshnessSeconds).toBe(93);
    expect(emf.stage).toBe('test');
  });

  it('publishes each verified class and its findings (the verify alarm sums VerifyFindings), and classes it could not verify', () => {
    const events = createPipelineEvents();
    const metrics = new Metrics({ namespace: 'FLAnts', serviceName: 'flants', defaultDimensions: { stage: 'test' } });
    attachMetrics(events, metrics);
    events.emit('classVerified', { classId: 'a', findings: 0, error: false });
    events.emit('classVerified', { classId: 'b', findings: 3, error: false });
    events.emit('classVerified', { classId: 'c', findings: 0, error: true });
    const emf = metrics.serializeMetrics() as unknown as Record<string, unknown>;
    expect(emf.ClassesVerified).toEqual([1, 1, 1]);
    expect(emf.VerifyFindings).toEqual([0, 3, 0]);
    expect(emf.VerifyErrors).toBe(1);
  });

  it('publishes how long each lane made its messages wait, one metric per queue (QueueWaitSeconds by Queue)', () => {
    const events = createPipelineEvents();
    const metrics = new Metrics({ namespace: 'FLAnts', serviceName: 'flants', defaultDimensions: { Stage: 'test' } });
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      attachMetrics(events, metrics);
      events.emit('laneWait', { stage: 'transfer', lane: 'fresh', waitSeconds: 4.5 });
      events.emit('laneWait', { stage: 'crawl', lane: 'bulk', waitSeconds: 3600 });
    } finally {
      write.mockRestore();
    }
    const emf = lines
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.includes('QueueWaitSeconds'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(emf.map((e) => [e.Queue, e.QueueWaitSeconds, e.Stage])).toEqual([
      ['transfer-fresh', 4.5, 'test'],
      ['crawl', 3600, 'test'],
    ]);
  });
});
