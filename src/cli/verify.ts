import { InvalidArgumentError, type Command } from 'commander';
import { CLASS_STATUSES, type ClassStatus } from '../domain/lifecycle/class-lifecycle.ts';
import { describeError } from '../errors.ts';
import { formatSeconds } from '../views/freshness.ts';
import { describeCounts, verifyRequests, type Finding } from '../verify/findings.ts';
import { runVerify, selectClasses, type VerifyTarget } from '../verify/run.ts';
import type { ClassVerification } from '../verify/verify-class.ts';
import { cliDeps, say } from './context.ts';

interface VerifyCliOptions {
  all?: boolean;
  status?: ClassStatus;
  deep?: boolean;
  origin?: boolean;
  json?: boolean;
  csv?: boolean;
  record: boolean;
}

function csvCell(v: string | number | undefined): string {
  const s = v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
const csvRow = (cells: Array<string | number | undefined>) => cells.map(csvCell).join(',');

/** Registers `flants verify`: exit 0 when every class verified OK, 1 on findings, 2 when it could not run. */
export function registerVerify(program: Command): void {
  program
    .command('verify [classIds...]')
    .description(
      'Check classes in the bucket against what the ledger counted (read-only): every file present with its size and CRC32, nothing unexpected under the class root, every playlist reference resolving; exit 0 OK, 1 findings, 2 could not run',
    )
    .option('--all', 'every class the ledger knows (with --status, those of that status)')
    .option('--status <status>', `with --all, only classes of this status (${CLASS_STATUSES.join(', ')})`, (v) => {
      const s = v.toUpperCase();
      if (!CLASS_STATUSES.includes(s as ClassStatus))
        throw new InvalidArgumentError(`--status must be one of ${CLASS_STATUSES.join(', ')}`);
      return s as ClassStatus;
    })
    .option('--deep', 'also read every object again and recompute its CRC32 (a GET per file, announced first)')
    .option(
      '--origin',
      'also ask the origin whether each file still matches (conditional GET of playlists, HEAD of others)',
    )
    .option('--json', 'machine-readable: {"classes":[...],"summary":{...}}, every finding listed')
    .option('--csv', 'one row per finding (and one per class without any)')
    .option('--no-record', 'do not keep the result on the class record (verifiedAt, verifyResult)')
    .action(async (classIds: string[], o: VerifyCliOptions) => {
      if (classIds.length === 0 && !o.all) {
        process.stderr.write(
          'flants: name the classes to verify, or --all (with --status COMPLETE for finished ones)\n',
        );
        process.exitCode = 2;
        return;
      }
      if (o.json && o.csv) {
        process.stderr.write('flants: choose one of --json and --csv\n');
        process.exitCode = 2;
        return;
      }
      const deps = cliDeps();
      try {
        const targets = await selectClasses(deps.ledger, {
          classIds,
          all: o.all ?? false,
          ...(o.status ? { status: o.status } : {}),
        });
        const files = targets.reduce((n, t) => n + t.files, 0);
        if (o.deep) {
          const bytes = targets.reduce((n, t) => n + t.bytes, 0);
          const r = verifyRequests(files, { deep: true });
          process.stderr.write(
            `flants verify --deep reads every object again: ${r.get.toLocaleString('en-US')} GETs (${(bytes / 1e9).toFixed(2)} GB) over ${targets.length} class(es), besides ${r.head.toLocaleString('en-US')} HEADs\n`,
          );
        }
        const progress = progressLine(targets, files, process.stderr.isTTY === true && !o.json && !o.csv);
        if (o.json) process.stdout.write('{"classes":[');
        if (o.csv) say(csvRow(['classId', 'gen', 'verdict', 'kind', 'key', 'target', 'detail']));
        let first = true;
        const summary = await runVerify(deps.ledger, deps.store, targets, {
          destPrefix: deps.cfg.destPrefix,
          maxPlaylistBytes: deps.cfg.hls.maxPlaylistBytes,
          deep: o.deep ?? false,
          ...(o.origin ? { origin: deps.origin } : {}),
          record: o.record,
          // The JSON lists every finding; the human output the first 1,000 of a class (counts are exact).
          keepFindings: o.json ? Number.POSITIVE_INFINITY : o.csv ? 0 : 1000,
          onObject: progress.object,
          ...(o.csv
            ? {
                onFinding: (classId: string, f: Finding) =>
                  say(csvRow([classId, '', 'FINDINGS', f.kind, f.key, f.target, f.detail])),
              }
            : {}),
          onClass: (v) => {
            progress.clear();
            if (o.json) {
              process.stdout.write(`${first ? '' : ','}${JSON.stringify(v)}`);
              first = false;
            } else if (o.csv) {
              if (v.verdict !== 'FINDINGS') say(csvRow([v.classId, v.gen, v.verdict, '', '', '', v.error ?? '']));
            } else printClass(v);
            progress.classDone();
          },
        });
        progress.clear();
        const line = `${summary.classes} class(es): ${summary.ok} OK, ${summary.withFindings} with findings, ${summary.errors} could not be verified${summary.withFindings ? ` (${describeCounts(summary.findings)})` : ''}; requests: ${summary.requests.list} LIST, ${summary.requests.head} HEAD, ${summary.requests.get} GET${o.origin ? `, ${summary.requests.origin} to the origin` : ''}`;
        if (o.json) process.stdout.write(`],"summary":${JSON.stringify(summary)}}\n`);
        else if (o.csv) process.stderr.write(`${line}\n`);
        else say(line);
        process.exitCode = summary.exitCode;
      } catch (err) {
        process.stderr.write(`flants: verify could not run: ${describeError(err)}\n`);
        process.exitCode = 2;
      } finally {
        await deps.close();
      }
    });
}

function printClass(v: ClassVerification): void {
  say(`${v.classId}  ${v.verdict === 'ERROR' ? 'ERROR' : v.result}  (generation ${v.gen}, ${v.files} files)`);
  if (v.error) say(`  ${v.error}`);
  for (const f of v.findings) say(`  ${f.kind}  ${f.key}: ${f.detail}`);
  if (v.findingsNotListed > 0)
    say(`  ... and ${v.findingsNotListed} more findings ("flants verify ${v.classId} --json" lists every one)`);
}

/** Progress on a terminal: classes and objects checked, and an ETA from the rate so far. */
function progressLine(
  targets: readonly VerifyTarget[],
  files: number,
  tty: boolean,
): { object: () => void; classDone: () => void; clear: () => void } {
  const started = Date.now();
  let objects = 0;
  let classes = 0;
  let last = 0;
  let shown = false;
  const draw = () => {
    const now = Date.now();
    if (!tty || now - last < 200) return;
    last = now;
    const rate = objects / Math.max(1, now - started);
    const eta = rate > 0 && files > objects ? formatSeconds((files - objects) / rate / 1000) : '-';
    process.stderr.write(
      `\r\x1b[2Kverify: ${classes}/${targets.length} classes, ${objects.toLocaleString('en-US')}/${files.toLocaleString('en-US')} objects, ETA ${eta}`,
    );
    shown = true;
  };
  return {
    object: () => {
      objects++;
      draw();
    },
    classDone: () => {
      classes++;
      draw();
    },
    clear: () => {
      if (shown) process.stderr.write('\r\x1b[2K');
      shown = false;
    },
  };
}
