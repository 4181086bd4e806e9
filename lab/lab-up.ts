import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { startLocalPipeline } from './local-pipeline.ts';
import { formatFaultSpec, parseFaultSpec, type FaultSpec } from './faults.ts';
import { envFileText, LAB_PID_VARIABLE, parseEnvFile } from './lab-env.ts';

/** Where `lab up` writes its env file unless told (.flants/ is git-ignored). */
export const DEFAULT_ENV_FILE = '.flants/lab.env';
/** How long `lab down` waits for the lab to stop its servers. */
const DOWN_TIMEOUT_MS = 60_000;

function positiveInt(name: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number of at least 1`);
    return n;
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid of the lab an env file names, if that file exists and names one. */
function labPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(parseEnvFile(readFileSync(file, 'utf8'))[LAB_PID_VARIABLE]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Sends `signal` to the running lab the env file names; explains what to do when there is none. */
function signalLab(file: string, signal: NodeJS.Signals): number {
  const pid = labPid(file);
  if (pid === undefined)
    throw new Error(`no lab is up: ${file} does not exist or names no lab (start one with "flants lab up")`);
  if (!alive(pid)) {
    rmSync(file, { force: true });
    throw new Error(`the lab ${file} named (process ${pid}) is not running any more; removed the stale file`);
  }
  process.kill(pid, signal);
  return pid;
}

interface UpOptions {
  classes: number;
  segments: number;
  seed: string;
  faults?: FaultSpec;
  labEnv: string;
}

async function up(o: UpOptions): Promise<void> {
  const envFile = resolve(o.labEnv);
  const running = labPid(envFile);
  if (running !== undefined && alive(running))
    throw new Error(`a lab is already up (process ${running}, ${envFile}): "flants lab down" stops it`);
  process.stdout.write('Starting local SQS, S3, DynamoDB and MongoDB servers, a sample origin and its catalog...\n');
  const p = await startLocalPipeline({
    library: { classes: o.classes, segmentsPerRendition: o.segments, seed: o.seed },
    ...(o.faults ? { faults: o.faults } : {}),
    // The operator runs the workers (`flants run`); short visibility so a failed job is retried in seconds.
    noRunner: true,
    visibilityTimeout: 5,
  });
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= p.stop());
  try {
    const env = { ...p.env, [LAB_PID_VARIABLE]: String(process.pid) };
    mkdirSync(dirname(envFile), { recursive: true });
    writeFileSync(
      envFile,
      envFileText(env, [`FLAnts lab, process ${process.pid}: "source" this file to point flants at it`]),
    );
    const w = (s = '') => process.stdout.write(`${s}\n`);
    const st = p.stack.endpoints;
    w(`FLAnts lab is up (process ${process.pid}), until Ctrl-C or "flants lab down":`);
    w(`  sqs       ${st.sqs}`);
    w(
      `  s3        ${p.env.AWS_ENDPOINT_URL_S3}${p.env.AWS_ENDPOINT_URL_S3 !== st.s3 ? ` (fault proxy in front of ${st.s3})` : ''}`,
    );
    w(`  dynamodb  ${st.dynamodb}`);
    w(`  mongodb   ${p.env.MONGODB_URI}`);
    w(
      `  origin    ${p.origin.url}: ${p.library.classes.length} valid ${p.library.classes.length === 1 ? 'class' : 'classes'}, ${p.library.totalFiles} files, in the catalog with a few the scanner must skip`,
    );
    if (o.faults) w(`  faults    ${formatFaultSpec(o.faults)}`);
    if (p.logFile) w(`  log       ${p.logFile} (removed when the lab stops)`);
    w();
    w(`In another shell: source ${envFile}`);
    w('then: npx flants scan && npx flants run --until-idle, and status, status --watch, report, dashboard, redrive.');
    w();
    w(envFileText(env).trimEnd());
    await new Promise<void>((done) => {
      const heal = () => {
        // `flants lab heal`: the origin has its files back (and answers without faults), as a fixed origin would.
        p.origin.setFaults({});
        w('Origin healed: every file is back and answers without faults.');
      };
      process.on('SIGUSR2', heal);
      const end = () => {
        process.off('SIGUSR2', heal);
        done();
      };
      process.once('SIGINT', end);
      process.once('SIGTERM', end);
    });
    w('Stopping the lab...');
  } finally {
    await stop();
    // Only our own file: another lab may have been started with it since (it would name its own pid).
    if (labPid(envFile) === process.pid) rmSync(envFile, { force: true });
  }
  process.stdout.write('Lab stopped.\n');
}

async function down(envFile: string): Promise<void> {
  const file = resolve(envFile);
  const pid = signalLab(file, 'SIGTERM');
  const deadline = Date.now() + DOWN_TIMEOUT_MS;
  while (alive(pid)) {
    if (Date.now() > deadline)
      throw new Error(`the lab (process ${pid}) did not stop within ${DOWN_TIMEOUT_MS / 1000} s: kill ${pid} ends it`);
    await sleep(100);
  }
  process.stdout.write(`Lab stopped (process ${pid}).\n`);
}

/** Registers `flants lab up|down|heal`: the local stack kept up for the other commands to point at. */
export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description('A local stack that stays up (servers, sample origin and catalog) for the other commands to use');
  lab
    .command('up')
    .description(
      'Start local SQS, S3, DynamoDB and MongoDB servers, a sample origin and its catalog, and keep them up until Ctrl-C or "flants lab down"; writes the environment for another shell to source',
    )
    .option('--classes <n>', 'valid classes in the sample library', positiveInt('--classes'), 6)
    .option('--segments <n>', 'media segments per rendition', positiveInt('--segments'), 12)
    .option('--seed <n>', 'library seed', '1')
    .option('--faults <spec>', 'inject faults, e.g. gone=2 or origin5xx=0.1,s3=0.05 (see docs/development.md)', (v) =>
      parseFaultSpec(v),
    )
    // Not --env-file: Node 20 reads that flag even after the script's name, as its own.
    .option('--lab-env <file>', 'where to write the export lines to source', DEFAULT_ENV_FILE)
    .action(async (o: UpOptions) => up(o));
  lab
    .command('down')
    .description('Stop the lab "flants lab up" started (the one its env file names)')
    .option('--lab-env <file>', 'the env file "lab up" wrote', DEFAULT_ENV_FILE)
    .action(async (o: { labEnv: string }) => down(o.labEnv));
  lab
    .command('heal')
    .description('Give the lab\'s origin its files back and stop its faults (then "flants redrive")')
    .option('--lab-env <file>', 'the env file "lab up" wrote', DEFAULT_ENV_FILE)
    .action((o: { labEnv: string }) => {
      const pid = signalLab(resolve(o.labEnv), 'SIGUSR2');
      process.stdout.write(`Asked the lab (process ${pid}) to heal its origin.\n`);
    });
}
