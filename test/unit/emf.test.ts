import { afterEach, describe, expect, it } from 'vitest';
import { emfRecord, publishFreshness, setMetricSink } from '../../src/metrics/emf.ts';

afterEach(() => {
  setMetricSink(undefined);
  delete process.env.AWS_LAMBDA_FUNCTION_NAME;
});

describe('Embedded Metric Format', () => {
  it('declares each metric under _aws and puts dimensions and values at the top level, as CloudWatch requires', () => {
    expect(emfRecord({ Stage: 'prod' }, [{ name: 'FreshnessSeconds', unit: 'Seconds', value: 42.5 }], { classId: 'c1' }, 1_700_000_000_000)).toEqual({
      _aws: { Timestamp: 1_700_000_000_000, CloudWatchMetrics: [{ Namespace: 'FLAnts', Dimensions: [['Stage']], Metrics: [{ Name: 'FreshnessSeconds', Unit: 'Seconds' }] }] },
      classId: 'c1',
      Stage: 'prod',
      FreshnessSeconds: 42.5,
    });
  });

  it('publishes a class\'s freshness as one JSON line, on Lambda by default and nowhere on a laptop', () => {
    const lines: string[] = [];
    publishFreshness({ stage: 'dev', classId: 'c2', gen: 3, seconds: 61, fn: 'transfer' });
    setMetricSink((l) => lines.push(l));
    publishFreshness({ stage: 'dev', classId: 'c2', gen: 3, seconds: 61, fn: 'transfer' });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ Stage: 'dev', FreshnessSeconds: 61, classId: 'c2', gen: 3, _aws: { CloudWatchMetrics: [{ Namespace: 'FLAnts' }] } });
  });
});
