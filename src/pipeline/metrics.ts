import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { PipelineEvents } from './events.ts';

/** The CloudWatch namespace of every FLAnts metric (the alarms in serverless.yml watch it). */
export const METRIC_NAMESPACE = 'FLAnts';

/**
 * Turns pipeline events into CloudWatch metrics (Embedded Metric Format, through Powertools):
 * files and bytes copied, retries inside attempts, failed deliveries (and last ones), classes
 * completed and their freshness. The caller publishes them at the end of each invocation. Returns the unsubscribe.
 */
export function attachMetrics(events: PipelineEvents, metrics: Metrics): () => void {
  const onCounted = ({ files, bytes }: { files: number; bytes: number }) => {
    metrics.addMetric('FilesCopied', MetricUnit.Count, files);
    metrics.addMetric('BytesCopied', MetricUnit.Bytes, bytes);
  };
  const onRetry = () => metrics.addMetric('Retries', MetricUnit.Count, 1);
  const onFailed = ({ final }: { final: boolean }) =>
    metrics.addMetric(final ? 'LastDeliveriesFailed' : 'DeliveriesFailed', MetricUnit.Count, 1);
  const onComplete = ({ freshnessSeconds }: { freshnessSeconds?: number }) => {
    metrics.addMetric('ClassesCompleted', MetricUnit.Count, 1);
    // The product's own figure: how soon a class that ended is playable from S3 (the freshness alarm watches it).
    if (freshnessSeconds !== undefined) metrics.addMetric('FreshnessSeconds', MetricUnit.Seconds, freshnessSeconds);
  };
  // The verify alarm watches VerifyFindings: any finding of a scheduled verification.
  const onVerified = ({ findings, error }: { findings: number; error: boolean }) => {
    metrics.addMetric('ClassesVerified', MetricUnit.Count, 1);
    metrics.addMetric('VerifyFindings', MetricUnit.Count, findings);
    if (error) metrics.addMetric('VerifyErrors', MetricUnit.Count, 1);
  };
  const onLaneWait = ({ stage, lane, waitSeconds }: { stage: string; lane: string; waitSeconds: number }) => {
    // Per queue (stage and lane): the fresh lane's wait is the figure fresh-first is judged by.
    const m = metrics.singleMetric();
    m.addDimension('Queue', lane === 'fresh' ? `${stage}-fresh` : stage);
    m.addMetric('QueueWaitSeconds', MetricUnit.Seconds, waitSeconds);
  };
  events.on('chunkCounted', onCounted);
  events.on('classVerified', onVerified);
  events.on('laneWait', onLaneWait);
  // What the OriginThrottled alarm watches: answers of an origin asking to be spared (429, Retry-After).
  const onThrottled = ({ throttled }: { throttled: boolean }) =>
    metrics.addMetric(throttled ? 'OriginThrottled' : 'OriginDistress', MetricUnit.Count, 1);
  const onDeferred = () => metrics.addMetric('JobsDeferred', MetricUnit.Count, 1);
  events.on('originThrottled', onThrottled);
  events.on('deferred', onDeferred);
  events.on('retry', onRetry);
  events.on('deliveryFailed', onFailed);
  events.on('classComplete', onComplete);
  return () => {
    events.off('chunkCounted', onCounted);
    events.off('classVerified', onVerified);
    events.off('laneWait', onLaneWait);
    events.off('originThrottled', onThrottled);
    events.off('deferred', onDeferred);
    events.off('retry', onRetry);
    events.off('deliveryFailed', onFailed);
    events.off('classComplete', onComplete);
  };
}
