/**
 * Metrics as CloudWatch Embedded Metric Format: one JSON line in the function's log that CloudWatch
 * Logs turns into a metric, with no API call and no extra permission. One small module, so a metrics
 * library (e.g. Powertools Metrics) can replace it behind `publishFreshness`.
 */

/** The namespace of every FLAnts metric (the alarm in serverless.yml watches it). */
export const METRIC_NAMESPACE = 'FLAnts';

export interface MetricValue {
  name: string;
  unit: 'Seconds' | 'Count' | 'Bytes';
  value: number;
}

/** Where EMF lines go; on Lambda, stdout (its log stream). */
export type MetricSink = (line: string) => void;

let sink: MetricSink | undefined;

/** Redirects metric lines (tests capture them); `undefined` restores the default. Returns the previous sink. */
export function setMetricSink(next: MetricSink | undefined): MetricSink | undefined {
  const previous = sink;
  sink = next;
  return previous;
}

/** Where lines go now: the sink set, else stdout on Lambda, else nowhere (a laptop has no metric pipeline to feed). */
function currentSink(): MetricSink | undefined {
  if (sink) return sink;
  return process.env.AWS_LAMBDA_FUNCTION_NAME ? (line) => void process.stdout.write(`${line}\n`) : undefined;
}

/** Builds one EMF record: dimensions and values at the top level, their declaration under `_aws`. */
export function emfRecord(dimensions: Record<string, string>, metrics: readonly MetricValue[], properties: Record<string, unknown> = {}, at = Date.now()): Record<string, unknown> {
  return {
    _aws: {
      Timestamp: at,
      CloudWatchMetrics: [{ Namespace: METRIC_NAMESPACE, Dimensions: [Object.keys(dimensions)], Metrics: metrics.map((m) => ({ Name: m.name, Unit: m.unit })) }],
    },
    ...properties,
    ...dimensions,
    ...Object.fromEntries(metrics.map((m) => [m.name, m.value])),
  };
}

/** Publishes how long a class took from its end (or the change or forced copy that started its generation) to COMPLETE. */
export function publishFreshness(m: { stage: string; classId: string; gen: number; seconds: number; fn: string }): void {
  const out = currentSink();
  if (!out) return;
  // The class id is a property, not a dimension: one metric per stage, each datapoint still traceable in Logs Insights.
  out(JSON.stringify(emfRecord({ Stage: m.stage }, [{ name: 'FreshnessSeconds', unit: 'Seconds', value: m.seconds }], { classId: m.classId, gen: m.gen, fn: m.fn, msg: 'class complete' })));
}
