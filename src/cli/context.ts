import { loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { buildDeps, setSharedDeps, type Deps } from '../pipeline/deps.ts';

/** Dependencies for a CLI command, from the environment; the caller closes them. */
export function cliDeps(opts: { logLevel?: 'debug' | 'info' | 'warn' | 'error'; shareWithHandlers?: boolean } = {}): Deps {
  const cfg = loadConfig();
  const deps = buildDeps(cfg, createLogger({ stage: cfg.stage }, opts.logLevel ?? 'warn'));
  // `flants run` invokes the handlers in this process: they must use these same clients.
  if (opts.shareWithHandlers) setSharedDeps(deps);
  return deps;
}

/** Writes one line to stdout. */
export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}
