import type { Command } from 'commander';
import { describeFreshness, formatSeconds, freshnessSummary } from '../pipeline/freshness.ts';
import { classNote, toClassView } from '../pipeline/report.ts';
import type { ClassRecord } from '../store/ledger.ts';
import { cliDeps, say } from './context.ts';

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** Registers `flants status [classId] [--json]`. */
export function registerStatus(program: Command): void {
  program
    .command('status [classId]')
    .description('Show every class the ledger knows (or one, with its failed files)')
    .option('--json', 'machine-readable: {"classes":[...]}')
    .action(async (classId: string | undefined, o: { json?: boolean }) => {
      const deps = cliDeps();
      try {
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
        if (o.json) {
          say(JSON.stringify(classId ? { classes: views, failures: failures.flatMap((f) => f.files) } : { classes: views, freshness }));
          return;
        }
        if (views.length === 0) return say(`No classes on stage ${deps.cfg.stage} yet. Enqueue one with "flants enqueue <classId>" or a scan with "flants scan".`);
        say(`${pad('CLASS', 26)} ${pad('STATUS', 12)} ${pad('FILES', 15)} ${pad('MB', 10)} ${pad('FRESH', 10)} TITLE`);
        for (const v of views) {
          say(`${pad(v.classId, 26)} ${pad(v.status, 12)} ${pad(`${v.doneFiles}/${v.files}`, 15)} ${pad((v.bytes / 1e6).toFixed(1), 10)} ${pad(formatSeconds(v.freshnessSeconds), 10)} ${v.title ?? ''}`);
          const note = classNote(v);
          if (note) say(`${' '.repeat(27)}${note}`);
          for (const w of v.warnings) say(`${' '.repeat(27)}warning: ${w}`);
          if (v.checkedAt) say(`${' '.repeat(27)}last change check ${v.checkedAt}: ${v.checkResult ?? ''}`);
          if (v.removedCount) say(`${' '.repeat(27)}${v.removedCount} file(s) of earlier copies no longer in the plan, left in the bucket: ${v.removedFiles.slice(0, 3).join(', ')}${v.removedCount > 3 ? ', ...' : ''}`);
        }
        for (const f of failures.flatMap((x) => x.files)) say(`  failed file ${f.key}: ${f.reason}`);
        const counts = new Map<string, number>();
        for (const v of views) counts.set(v.status, (counts.get(v.status) ?? 0) + 1);
        say(`${views.length} classes: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}`);
        if (!classId) say(describeFreshness(freshness));
      } finally {
        await deps.close();
      }
    });
}
