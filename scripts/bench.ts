/**
 * Benchmark: the whole pipeline on the embedded local stack at a chosen size, printing figures
 * (files/s, MB/s, wall time, peak memory of the worker process). Not a test: it asserts nothing
 * beyond the run being verified, and its numbers depend on the machine.
 *
 *   npm run bench -- --classes 20 --segments 60 --segment-kb 512 [--faults SPEC]
 */
import { parseArgs } from 'node:util';
import { runDemo } from '../lab/demo.ts';
import { parseFaultSpec } from '../lab/faults.ts';
import { createLogger } from '../src/log.ts';

const { values } = parseArgs({
  options: {
    classes: { type: 'string', default: '12' },
    segments: { type: 'string', default: '40' },
    'segment-kb': { type: 'string', default: '256' },
    variants: { type: 'string', default: '3' },
    transfer: { type: 'string', default: '4' },
    'chunk-files': { type: 'string', default: '25' },
    faults: { type: 'string' },
  },
});

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
// CPU of this process from the scan to the pipeline settling: the workers plus the in-process origin
// (the local SQS/S3/DynamoDB/MongoDB servers are child processes and not counted). `flants estimate`
// uses it, per file, as the transfer's CPU cost.
let cpuFirst: NodeJS.CpuUsage | undefined;
let cpuLast: NodeJS.CpuUsage | undefined;
const report = await runDemo({
  library: {
    classes: Number(values.classes),
    segmentsPerRendition: Number(values.segments),
    segmentBytes: Number(values['segment-kb']) * 1024,
    variants: Number(values.variants),
    seed: 'bench',
  },
  concurrency: { transfer: Number(values.transfer) },
  env: { TRANSFER_CHUNK_FILES: values['chunk-files'] },
  log: createLogger({}, 'error'),
  timeoutMs: 30 * 60_000,
  onProgress: () => {
    cpuLast = process.cpuUsage();
    cpuFirst ??= cpuLast;
  },
  ...(values.faults ? { faults: parseFaultSpec(values.faults) } : {}),
});
clearInterval(sampler);
const t = report.totals;
console.log(
  JSON.stringify(
    {
      ok: report.ok,
      classes: t.classes,
      files: t.files,
      megabytes: Number((t.bytes / 1e6).toFixed(1)),
      wallSeconds: t.wallSeconds,
      pipelineSeconds: t.pipelineSeconds,
      filesPerSecond: t.filesPerSecond,
      mbPerSecond: t.mbPerSecond,
      peakRssMb: Math.round(peakRss / 1e6),
      transferPollers: Number(values.transfer),
      // Per concurrent transfer worker (one poller = one concurrent Lambda invocation of a batch).
      mbPerSecondPerTransferWorker: Number((t.mbPerSecond / Number(values.transfer)).toFixed(2)),
      filesPerSecondPerTransferWorker: Number((t.filesPerSecond / Number(values.transfer)).toFixed(1)),
      cpuMsPerFile:
        cpuFirst && cpuLast && t.files ? Number(((cpuMs(cpuLast) - cpuMs(cpuFirst)) / t.files).toFixed(2)) : undefined,
      chunkFiles: Number(values['chunk-files']),
      retries: report.retries,
      faults: report.faults.spec
        ? {
            origin: report.faults.origin,
            s3: report.faults.s3,
            lost: report.faults.lost,
            doubleCounted: report.faults.doubleCounted,
          }
        : undefined,
    },
    null,
    2,
  ),
);
process.exitCode = report.ok ? 0 : 1;

function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}
