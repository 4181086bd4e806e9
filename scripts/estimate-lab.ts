/**
 * `flants estimate` against a generated library, with the truth next to it: starts a local MongoDB
 * and the sample origin, loads the catalog, runs `flants estimate` as a user would (extra arguments
 * after `--` go to it), then prints the library's real totals and whether each range holds them.
 *
 *   node --import tsx scripts/estimate-lab.ts --classes 60 --segments 600 --segment-kb 400 --variants 4 -- --sample 12
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { bytes, count } from '../src/estimate/render.ts';
import { generateLibrary } from '../lab/library.ts';
import { startOriginServer } from '../lab/origin-server.ts';
import { startLocalStack } from '../lab/stack.ts';

const BIN = fileURLToPath(new URL('../bin/flants.js', import.meta.url));
const dash = process.argv.indexOf('--');
const own = dash < 0 ? process.argv.slice(2) : process.argv.slice(2, dash);
const passed = dash < 0 ? [] : process.argv.slice(dash + 1);
const { values } = parseArgs({
  args: own,
  options: {
    classes: { type: 'string', default: '24' },
    segments: { type: 'string', default: '12' },
    'segment-kb': { type: 'string', default: '96' },
    variants: { type: 'string', default: '3' },
    seed: { type: 'string', default: 'lab' },
  },
});

const library = generateLibrary({
  classes: Number(values.classes),
  segmentsPerRendition: Number(values.segments),
  segmentBytes: Number(values['segment-kb']) * 1024,
  variants: Number(values.variants),
  seed: values.seed,
});
const [stack, origin] = await Promise.all([startLocalStack(['mongodb']), startOriginServer(library)]);
try {
  const mongo = await new MongoClient(stack.env.MONGODB_URI!).connect();
  await mongo.db().collection('classes').insertMany(library.catalogDocuments(origin.url));
  await mongo.close();
  // Only the catalog and the origin are local: the estimate prices the deployment's own settings
  // (not the local stack's, e.g. its 8 MiB part size).
  const env = { ...process.env, MONGODB_URI: stack.env.MONGODB_URI!, ORIGIN_ALLOWED_HOSTS: new URL(origin.url).host };
  const args = [BIN, 'estimate', ...passed];
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString();
      process.stdout.write(d);
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(text) : reject(new Error(`flants estimate exited with ${code}`)),
    );
  });
  const actual = { classes: library.classes.length, files: library.totalFiles, bytes: library.totalBytes };
  process.stdout.write(
    `\nThe library as generated: ${count(actual.classes)} classes, ${count(actual.files)} files, ${bytes(actual.bytes)}; the origin served ${count(origin.stats().requests)} requests.\n`,
  );
  if (passed.includes('--json')) {
    const r = JSON.parse(out) as {
      library: { files: { low: number; high: number }; bytes: { low: number; high: number } };
    };
    const inside = (x: number, range: { low: number; high: number }) =>
      range.low <= x && x <= range.high ? 'inside' : 'OUTSIDE';
    process.stdout.write(
      `files ${inside(actual.files, r.library.files)} the range, bytes ${inside(actual.bytes, r.library.bytes)} the range.\n`,
    );
  }
} finally {
  await origin.close();
  await stack.stop();
}
