import { loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { buildDeps, type Deps } from '../wiring/deps.ts';

/** Dependencies for a CLI command, from the environment; the caller closes them. */
export function cliDeps(
  opts: { logLevel?: 'debug' | 'info' | 'warn' | 'error'; env?: Record<string, string | undefined> } = {},
): Deps {
  const cfg = loadConfig(opts.env ?? process.env);
  return buildDeps(cfg, createLogger({ stage: cfg.stage }, opts.logLevel ?? 'warn'));
}

/** Writes one line to stdout. */
export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}
