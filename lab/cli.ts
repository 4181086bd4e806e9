import { writeFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { runDemo, type DemoReport } from './demo.ts';
import { formatFaultSpec, parseFaultSpec, type FaultSpec } from './faults.ts';
import { formatSeconds } from '../src/views/freshness.ts';
import { PlainProgress } from './plain-progress.ts';

function positiveInt(name: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number of at least 1`);
    return n;
  };
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/** Prints the closing summary a person reads after `npm start`. */
export function printSummary(r: DemoReport, out: NodeJS.WritableStream = process.stdout): void {
  const w = (s = '') => out.write(`${s}\n`);
  w();
  const headline = r.faults.gone.length
    ? 'FLAnts demo: every class ended as expected — the rest COMPLETE and verified, those that lost files at the origin FAILED listing exactly them.'
    : 'FLAnts demo: every valid class is COMPLETE and verified.';
  w(r.ok ? headline : 'FLAnts demo: FAILED — see below.');
  w();
  w(`  classes      ${r.classes.filter((c) => c.status === 'COMPLETE').length}/${r.totals.classes} complete`);
  w(`  files        ${r.totals.files}`);
  w(`  bytes        ${mb(r.totals.bytes)} MB`);
  w(
    `  time         ${r.totals.pipelineSeconds.toFixed(1)} s from scan to the last class complete (${r.totals.wallSeconds.toFixed(1)} s in all, with servers and verification)`,
  );
  w(
    `  throughput   ${r.totals.mbPerSecond} MB/s, ${r.totals.filesPerSecond} files/s (scan → crawl → transfer, all on this machine)`,
  );
  w(
    `  verified     ${r.verified.objects} objects byte-for-byte against the origin: ${r.verified.mismatches} mismatched, ${r.verified.missing} missing, ${r.verified.extra} unexpected`,
  );
  w(
    `  links        ${r.verified.links} URIs in the copied playlists resolve inside the copy: ${r.verified.dangling} dangling`,
  );
  w(
    `  freshness    median ${formatSeconds(r.freshness.medianSeconds)}, p95 ${formatSeconds(r.freshness.p95Seconds)}, worst ${formatSeconds(r.freshness.worstSeconds)} from each class's end to COMPLETE (classes end as the demo starts; a deployment adds the wait for its next scan)`,
  );
  w(
    `  deliveries   scan ${r.runner.messages.scan}, crawl ${r.runner.messages.crawl}, transfer ${r.runner.messages.transfer} (failed attempts: ${r.runner.failures.transfer}, in-attempt retries: ${r.retries})`,
  );
  if (r.faults.spec) {
    const injected = [
      ...Object.entries(r.faults.origin).map(([k, n]) => `origin ${k} ${n}`),
      ...Object.entries(r.faults.s3 ?? {}).map(([k, n]) => `s3 ${k} ${n}`),
    ];
    w(`  faults       ${formatFaultSpec(r.faults.spec)}`);
    w(`  injected     ${injected.join(', ')}`);
    w(
      `  outcome      retries ${r.retries}, failed deliveries ${r.runner.failures.transfer + r.runner.failures.crawl}, dead-lettered ${r.faults.deadLettered.transfer + r.faults.deadLettered.crawl + r.faults.deadLettered.scan}, lost ${r.faults.lost}, double-counted ${r.faults.doubleCounted}`,
    );
    if (r.faults.gone.length)
      w(
        `  gone         ${r.faults.gone.length} files removed from the origin for good; their classes must end FAILED listing exactly them`,
      );
  }
  if (r.skipped.length) {
    w(`  skipped      ${r.skipped.length} catalog ${r.skipped.length === 1 ? 'class' : 'classes'}:`);
    for (const s of r.skipped) w(`                 ${s.classId}  ${s.reason}${s.detail ? ` (${s.detail})` : ''}`);
  }
  const bad = r.classes.filter((c) => c.status !== 'COMPLETE');
  for (const c of bad) w(`  NOT COMPLETE ${c.classId} ${c.title}: ${c.status}, ${c.failedFiles} failed files`);
  for (const p of r.verified.problems) w(`  problem      ${p}`);
  if (r.logFile) w(`  log          ${r.logFile}`);
  w();
}

/** Registers `flants demo`: the whole pipeline on the embedded local stack. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'Run the whole pipeline on the embedded local stack with a generated sample library, then verify every object',
    )
    .option('--classes <n>', 'valid classes in the sample library', positiveInt('--classes'), 6)
    .option('--segments <n>', 'media segments per rendition', positiveInt('--segments'), 12)
    .option('--segment-kb <n>', 'mean video segment size in KiB', positiveInt('--segment-kb'), 96)
    .option('--variants <n>', 'video variants per class (1-7)', positiveInt('--variants'), 3)
    .option('--seed <n>', 'library seed', '1')
    .option('--report <file>', 'write the JSON report to this file')
    .option(
      '--duplicate-transfers <n>',
      'send every transfer job n times (duplicate deliveries)',
      positiveInt('--duplicate-transfers'),
    )
    .option('--timeout <seconds>', 'give up after this long', positiveInt('--timeout'), 600)
    .option(
      '--faults <spec>',
      'inject faults, e.g. origin5xx=0.1,reset=0.03,truncate=0.02,s3=0.05,gone=2,seed=7',
      (v) => parseFaultSpec(v),
    )
    .option('--no-progress', 'no progress bar')
    .action(
      async (o: {
        classes: number;
        segments: number;
        segmentKb: number;
        variants: number;
        seed: string;
        report?: string;
        duplicateTransfers?: number;
        timeout: number;
        progress: boolean;
        faults?: FaultSpec;
      }) => {
        const bar = new SingleBar(
          {
            format:
              'transfer |{bar}| {percentage}% | {value}/{total} files | {classes} classes complete | {mbs} MB | {eta_formatted} left',
            hideCursor: true,
          },
          Presets.shades_classic,
        );
        let barStarted = false;
        // Without a terminal: plain lines now and then (a bar redrawn in a log only repeats itself).
        const plain = process.stdout.isTTY ? undefined : new PlainProgress();
        process.stdout.write('Starting local SQS, S3, DynamoDB and MongoDB servers and a sample origin...\n');
        const report = await runDemo({
          library: {
            classes: o.classes,
            segmentsPerRendition: o.segments,
            segmentBytes: o.segmentKb * 1024,
            variants: o.variants,
            seed: o.seed,
          },
          timeoutMs: o.timeout * 1000,
          ...(o.duplicateTransfers ? { transferCopies: o.duplicateTransfers } : {}),
          ...(o.faults ? { faults: o.faults } : {}),
          onProgress: (p) => {
            if (!o.progress) return;
            if (plain) {
              const text = plain.line(p, Date.now());
              if (text) process.stdout.write(`${text}\n`);
              return;
            }
            const payload = { classes: `${p.classesComplete}/${p.classesTotal}`, mbs: mb(p.bytesDone) };
            if (!barStarted) {
              bar.start(p.filesTotal, p.filesDone, payload);
              barStarted = true;
            }
            bar.setTotal(p.filesTotal);
            bar.update(p.filesDone, payload);
          },
        });
        if (barStarted) bar.stop();
        printSummary(report);
        if (o.report) {
          writeFileSync(o.report, `${JSON.stringify(report, null, 2)}\n`);
          process.stdout.write(`Report written to ${o.report}\n`);
        }
        if (!report.ok) process.exitCode = 1;
      },
    );
}

export { registerLab } from './lab-up.ts';
