/** Structured logging: one JSON object per line, which CloudWatch Logs Insights can query. */
import { addEnvironmentSecrets, redactText } from './redact.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** A threshold: a level, or `silent` for none at all (tests). */
export type LogThreshold = LogLevel | 'silent';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const ORDER: Record<LogThreshold, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Where log lines go; the demo points it at a file so progress bars stay readable. */
export type LogSink = (line: string, level: LogLevel) => void;

/** Errors serialise as `{}` by default; a logged error keeps its message (redacted with the rest). */
function errorsAsText(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}

let sink: LogSink = (line, level) => (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(`${line}\n`);

/** Redirects every logger's output (e.g. to a file during `flants demo`); returns the previous sink. */
export function setLogSink(next: LogSink): LogSink {
  const previous = sink;
  sink = next;
  return previous;
}

/**
 * Creates a logger that writes JSON lines at or above FLANTS_LOG_LEVEL (default info). Every line is
 * redacted on its way out (credentials, URL queries and userinfo, cookies, authorization, the
 * MongoDB URI): what a caller puts in a message or a field cannot leak.
 */
export function createLogger(base: LogFields = {}, level: LogThreshold = (process.env.FLANTS_LOG_LEVEL as LogThreshold) || 'info'): Logger {
  const min = ORDER[level] ?? ORDER.info;
  addEnvironmentSecrets(process.env);
  const write = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (ORDER[lvl] < min) return;
    sink(redactText(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...base, ...fields }, errorsAsText)), lvl);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger({ ...base, ...fields }, level),
  };
}
