/**
 * Structured logging on Powertools for AWS Lambda's Logger: one JSON object per line, which
 * CloudWatch Logs Insights can query. Every line is redacted on its way out and goes to one sink
 * (stdout/stderr by default; the demo points it at a file so its progress bars stay readable).
 */
import { LogFormatter, LogItem, Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions, LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import { addEnvironmentSecrets, redactText } from './redact.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** A threshold: a level, or `silent` for none at all (tests). */
export type LogThreshold = LogLevel | 'silent';
export type LogFields = Record<string, unknown>;

/** What the pipeline logs through: levels, and children that carry more fields on every line. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/** Where log lines go. */
export type LogSink = (line: string, level: LogLevel) => void;

let sink: LogSink = (line, level) =>
  (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(`${line}\n`);

/** Redirects every logger's output (e.g. to a file during `flants demo`); returns the previous sink. */
export function setLogSink(next: LogSink): LogSink {
  const previous = sink;
  sink = next;
  return previous;
}

/** Errors serialise as `{}` by default; a logged error keeps its message (redacted with the rest). */
function errorsAsText(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}

/** Our line shape: time, level, msg, then the Lambda context Powertools knows, then the fields. */
class LineFormatter extends LogFormatter {
  formatAttributes(a: UnformattedAttributes, fields: LogAttributes): LogItem {
    const ctx = a.lambdaContext;
    return new LogItem({
      attributes: {
        time: a.timestamp.toISOString(),
        level: a.logLevel.toLowerCase(),
        msg: a.message,
        ...(ctx ? { requestId: ctx.awsRequestId, coldStart: ctx.coldStart, function: ctx.functionName } : {}),
        ...(a.xRayTraceId ? { traceId: a.xRayTraceId } : {}),
      },
    }).addAttributes(fields);
  }
}

const LEVEL_OF: Record<number, LogLevel> = { 8: 'debug', 12: 'info', 16: 'warn', 20: 'error', 24: 'error' };

/** Powertools' logger, printing through the redacting sink (its children are of this class too). */
class SinkLogger extends PowertoolsLogger {
  protected override createLogger(options?: ConstructorOptions): SinkLogger {
    return new SinkLogger(options);
  }

  protected override printLog(level: number, log: LogItem): void {
    log.prepareForPrint();
    sink(redactText(JSON.stringify(log.getAttributes(), errorsAsText)), LEVEL_OF[level] ?? 'info');
  }
}

function wrap(pt: PowertoolsLogger): Logger & { powertools: PowertoolsLogger } {
  return {
    powertools: pt,
    debug: (m, f) => pt.debug(m, f ?? {}),
    info: (m, f) => pt.info(m, f ?? {}),
    warn: (m, f) => pt.warn(m, f ?? {}),
    error: (m, f) => pt.error(m, f ?? {}),
    child: (fields) => wrap(pt.createChild({ persistentKeys: fields })),
  };
}

/**
 * Creates a logger that writes JSON lines at or above FLANTS_LOG_LEVEL (default info). Every line is
 * redacted on its way out (credentials, URL queries and userinfo, cookies, authorization, the
 * MongoDB URI): what a caller puts in a message or a field cannot leak.
 */
export function createLogger(
  base: LogFields = {},
  level: LogThreshold = (process.env.FLANTS_LOG_LEVEL as LogThreshold) || 'info',
): Logger {
  addEnvironmentSecrets(process.env);
  const pt = new SinkLogger({
    serviceName: 'flants',
    logLevel: level === 'silent' ? 'SILENT' : (level.toUpperCase() as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'),
    logFormatter: new LineFormatter(),
    persistentKeys: base,
  });
  return wrap(pt);
}

/** The Powertools logger behind one of ours, for what only it knows (the Lambda context). */
export function powertoolsOf(log: Logger): PowertoolsLogger | undefined {
  return (log as Partial<{ powertools: PowertoolsLogger }>).powertools;
}
