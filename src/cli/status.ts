import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { collectSnapshot, type DashboardSnapshot } from '../dashboard/snapshot.ts';
import { ProgressTracker, RateTracker } from '../dashboard/progress.ts';
import { renderTerminal } from '../dashboard/terminal.ts';
import { describeError } from '../errors.ts';
import type { Deps } from '../wiring/deps.ts';
import { describeFreshness, formatSeconds, freshnessSummary } from '../views/freshness.ts';
import { classNote, describeGone, describeVerified, toClassView } from '../views/report.ts';
import { describeClassAccount } from '../views/accounting.ts';
import type { ClassRecord } from '../domain/ledger/records.ts';
import { cachedDeadLetters } from '../adapters/sqs/dead-letters.ts';
import { cliDeps, say } from './context.ts';
import { count } from '../util/plural.ts';
import { laneStatus } from './status-lanes.ts';
import type { QueueAges } from '../domain/lifecycle/queue-age.ts';
import { cloudWatchQueueAges } from '../adapters/cloudwatch/queue-age-cloudwatch.ts';

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function positive(name: string, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || n > max)
      throw new InvalidArgumentError(`${name} must be a number above 0 and at most ${max}`);
    return n;
  };
}

interface StatusOptions {
  json?: boolean;
  watch?: boolean;
  interval: number;
  frames?: number;
  stuck: number;
}

/** Registers `flants status [classId] [--json] [--watch]`. */
export function registerStatus(program: Command): void {
  program
    .command('status [classId]')
    .description(
      'Show every class the ledger knows (or one, with its failed files); --watch redraws the dashboard in the terminal',
    )
    .option('--json', 'machine-readable: {"classes":[...]} (with --watch, one such line per refresh)')
    .option('--watch', 'redraw every --interval seconds: rates, queues and a bar per class (colours only on a TTY)')
    .option('--interval <seconds>', 'seconds between redraws with --watch', positive('--interval', 3600), 2)
    .option(
      '--frames <n>',
      'with --watch, stop after this many redraws (default: until Ctrl-C)',
      positive('--frames', 1e9),
    )
    .option(
      '--stuck <minutes>',
      'with --watch, a class that should move but has not for this long is shown as stuck',
      positive('--stuck', 10_080),
      10,
    )
    .action(async (classId: string | undefined, o: StatusOptions) => {
      const deps = cliDeps();
      // On AWS the queues' ages come from CloudWatch (the local lab's are read from the queues themselves).
      const cw = cloudWatchQueueAges(deps.cfg);
      try {
        if (o.watch && classId) throw new Error('--watch shows every class: leave out the class id');
        if (o.watch) return await watch(deps, o, cw?.ages);
        let records: ClassRecord[];
        if (classId) {
          const r = await deps.ledger.getClass(classId);
          if (!r) throw new Error(`class ${classId} is not in the ledger (never enqueued on stage ${deps.cfg.stage})`);
          records = [r];
        } else {
          records = await deps.ledger.listClasses();
        }
        const views = records.map(toClassView);
        const failures = classId ? await deps.ledger.listFailures(classId) : [];
        const freshness = freshnessSummary(records);
        // Both lanes and freshness apart (issue 25); only for the whole ledger, not one class.
        const lanes = classId ? undefined : await laneStatus(deps.queue, records, deps.cfg, new Date(), cw?.ages);
        if (o.json) {
          say(
            JSON.stringify(
              classId
                ? { classes: views, failures: failures.flatMap((f) => f.files) }
                : { classes: views, freshness, lanes: lanes?.lanes, laneFreshness: lanes?.laneFreshness },
            ),
          );
          return;
        }
        if (views.length === 0)
          return say(
            `No classes on stage ${deps.cfg.stage} yet. Enqueue one with "flants enqueue <classId>" or a scan with "flants scan".`,
          );
        say(`${pad('CLASS', 26)} ${pad('STATUS', 12)} ${pad('FILES', 15)} ${pad('MB', 10)} ${pad('FRESH', 10)} TITLE`);
        for (const v of views) {
          say(
            `${pad(v.classId, 26)} ${pad(v.status, 12)} ${pad(`${v.doneFiles}/${v.files}`, 15)} ${pad((v.bytes / 1e6).toFixed(1), 10)} ${pad(formatSeconds(v.freshnessSeconds), 10)} ${v.title ?? ''}`,
          );
          const note = classNote(v);
          if (note) say(`${' '.repeat(27)}${note}`);
          const account = describeClassAccount(v);
          if (account) say(`${' '.repeat(27)}${account}`);
          for (const w of v.warnings) say(`${' '.repeat(27)}warning: ${w}`);
          if (v.checkedAt) say(`${' '.repeat(27)}last change check ${v.checkedAt}: ${v.checkResult ?? ''}`);
          if (v.removedCount)
            say(
              `${' '.repeat(27)}${v.removedCount} file(s) of earlier copies no longer in the plan, left in the bucket: ${v.removedFiles.slice(0, 3).join(', ')}${v.removedCount > 3 ? ', ...' : ''}`,
            );
          const gone = describeGone(v.goneAtOrigin);
          if (gone) say(`${' '.repeat(27)}${gone}`);
          const verified = describeVerified(v.verified);
          if (verified) say(`${' '.repeat(27)}${verified}`);
        }
        for (const f of failures.flatMap((x) => x.files)) say(`  failed file ${f.key}: ${f.reason}`);
        const counts = new Map<string, number>();
        for (const v of views) counts.set(v.status, (counts.get(v.status) ?? 0) + 1);
        say(`${count(views.length, 'class', 'classes')}: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}`);
        if (!classId) say(describeFreshness(freshness));
        for (const line of lanes?.lines ?? []) say(line);
      } finally {
        cw?.destroy();
        await deps.close();
      }
    });
}

/**
 * `--watch`: reads the ledger and the queues every interval and redraws. On a TTY the frame is drawn
 * over the last one (cursor home, each line cleared), elsewhere frames follow each other as plain
 * text; `--json` prints the same object as `status --json`, one line per refresh.
 */
async function watch(deps: Deps, o: StatusOptions, ages?: QueueAges): Promise<void> {
  const out = process.stdout;
  const tty = out.isTTY === true && !o.json;
  const rates = new RateTracker();
  const progress = new ProgressTracker();
  const deadLetters = cachedDeadLetters(deps.aws.sqs, deps.queue);
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (tty) out.write('\x1b[?25l\x1b[2J');
  let last: { snapshot: DashboardSnapshot; at: number } | undefined;
  try {
    for (let frame = 1; !stopped; frame++) {
      const started = Date.now();
      let error: string | undefined;
      try {
        if (o.json) {
          say(JSON.stringify({ classes: (await deps.ledger.listClasses()).map(toClassView) }));
        } else {
          const snapshot = await collectSnapshot(
            {
              stage: deps.cfg.stage,
              ledger: deps.ledger,
              queue: deps.queue,
              deadLetters,
              ...(ages ? { ages } : {}),
              freshWithinHours: deps.cfg.fresh.withinHours,
            },
            { limit: Number.MAX_SAFE_INTEGER },
          );
          const at = Date.now();
          rates.add(at, snapshot.totals.doneFiles, snapshot.totals.doneBytes);
          progress.observe(snapshot.classes, at);
          last = { snapshot, at };
        }
      } catch (err) {
        // One failed read leaves the last picture up, marked stale; the next interval tries again.
        error = describeError(err);
        if (o.json || !last) process.stderr.write(`flants: status --watch could not read the ledger: ${error}\n`);
      }
      if (!o.json && last) {
        const text = renderTerminal(last.snapshot, {
          color: tty,
          width: tty ? (out.columns ?? 120) : 120,
          height: tty ? out.rows : undefined,
          now: Date.now(),
          rates,
          progress,
          stuckMinutes: o.stuck,
          intervalSeconds: o.interval,
          error,
          readAt: last.at,
        });
        out.write(tty ? `\x1b[H${text.replaceAll('\n', '\x1b[K\n')}\x1b[J` : `${text}\n`);
      }
      if (o.frames !== undefined && frame >= o.frames) break;
      await waitOrStop(o.interval * 1000 - (Date.now() - started), () => stopped);
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (tty) out.write('\x1b[?25h');
  }
}

/** Sleeps up to `ms`, waking early once `stopped()` turns true (Ctrl-C ends the watch promptly). */
async function waitOrStop(ms: number, stopped: () => boolean): Promise<void> {
  for (let left = ms; left > 0 && !stopped(); left -= 100) await sleep(Math.min(100, left));
}
