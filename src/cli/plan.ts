import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { loadConfig, parseAllowedHosts } from '../config.ts';
import { PlaylistError } from '../hls/errors.ts';
import { createFileFetcher } from '../hls/file-fetcher.ts';
import { planClass } from '../hls/enumerate.ts';
import { classRoot } from '../hls/keys.ts';
import { FILE_KINDS, type FileKind, type PlannedFile } from '../hls/types.ts';
import { createOrigin } from '../adapters/origin/client.ts';

interface PlanCliOptions {
  json?: boolean;
  allowHost?: string[];
  class?: string;
}

/** Counts per kind, e.g. "12 files: 3 playlist, 8 segment, 1 init". */
export function summarize(files: readonly PlannedFile[]): string {
  const counts = new Map<FileKind, number>();
  for (const f of files) counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1);
  const parts = FILE_KINDS.filter((k) => counts.has(k)).map((k) => `${counts.get(k)} ${k}`);
  return `${files.length} file${files.length === 1 ? '' : 's'}${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

function render(files: readonly PlannedFile[], json: boolean, note: string): string {
  if (json)
    return (
      files.map((f) => JSON.stringify({ src: f.src, key: f.key, kind: f.kind })).join('\n') + (files.length ? '\n' : '')
    );
  const lines = files.map((f) => `${f.kind.padEnd(8)}  ${f.key}  <-  ${f.src}`);
  lines.push(`${summarize(files)}${note}`);
  return `${lines.join('\n')}\n`;
}

async function runPlan(target: string, options: PlanCliOptions): Promise<void> {
  const cfg = loadConfig();
  const extra = parseAllowedHosts((options.allowHost ?? []).join(','), '--allow-host');
  const isUrl = /^https?:\/\//i.test(target);
  let masterUrl: string;
  let allowedHosts: string[];
  if (isUrl) {
    const url = URL.canParse(target) ? new URL(target) : undefined;
    if (!url) throw new PlaylistError('BAD_URI', `${target} is not a valid URL`, target);
    // Outside ORIGIN_ALLOWED_HOSTS, trust exactly the host the user named, nothing it links to.
    allowedHosts = [...(cfg.originAllowedHosts.length ? cfg.originAllowedHosts : [url.host.toLowerCase()]), ...extra];
    masterUrl = url.href;
  } else if (/^[a-z][a-z0-9+.-]+:\/\//i.test(target) && !/^file:/i.test(target)) {
    throw new PlaylistError('BAD_URI', `plan takes an http(s) URL or a local file, not ${target}`, target);
  } else {
    allowedHosts = [...cfg.originAllowedHosts, ...extra];
    const isFileUrl = /^file:/i.test(target);
    if (isFileUrl && !(URL.canParse(target) && ['', 'localhost'].includes(new URL(target).hostname))) {
      throw new PlaylistError('BAD_URI', `${target} is not a local file URL`, target);
    }
    masterUrl = (isFileUrl ? new URL(target) : pathToFileURL(resolve(target))).href;
  }
  const origin = createOrigin({
    allowedHosts,
    maxRedirects: cfg.origin.maxRedirects,
    connectTimeoutMs: cfg.origin.connectTimeoutMs,
    headersTimeoutMs: cfg.origin.headersTimeoutMs,
    bodyTimeoutMs: cfg.origin.bodyTimeoutMs,
    connections: 8,
  });
  try {
    // A local master may read only files in its own directory tree; keys are relative to that directory.
    const fetcher = isUrl ? origin : createFileFetcher(dirname(fileURLToPath(masterUrl)), origin);
    // The crawler keys a class under DEST_PREFIX/<class id>/; without --class, keys are DEST_PREFIX/<host>/<path>.
    const root = options.class === undefined ? cfg.destPrefix : classRoot(cfg.destPrefix, options.class);
    const files = await planClass(masterUrl, fetcher, {
      limits: cfg.hls,
      destPrefix: root,
      allowedHosts,
      allowFiles: !isUrl,
    });
    // Without --class the keys lack the class id the crawler puts after DEST_PREFIX: say so where they are read.
    const note = options.class === undefined ? '; keys without the class id (--class <id> prints them as copied)' : '';
    process.stdout.write(render(files, options.json === true, note));
  } finally {
    await origin.close();
  }
}

/** Registers `flants plan <target>`: the crawler's own enumeration, printed instead of queued. */
export function registerPlan(program: Command): void {
  program
    .command('plan <target>')
    .description('List every file of the class whose master playlist is <target> (http(s) URL or local file)')
    .option('--json', 'one JSON object per line: {"src","key","kind"}')
    .option(
      '--class <id>',
      'print the keys the crawler writes for this class id (DEST_PREFIX/<id>/<host>/<path>); without it, keys are DEST_PREFIX/<host>/<path>, the class id left out',
    )
    .option(
      '--allow-host <host...>',
      "also allow these origin hosts (added to ORIGIN_ALLOWED_HOSTS, or to the target URL's host when that is unset)",
    )
    .action(async (target: string, options: PlanCliOptions) => {
      await runPlan(target, options);
    });
}
