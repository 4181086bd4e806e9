import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGE_VERSION, ScanRequestSchema, type CrawlJob, type ScanRequest } from '../../src/domain/jobs/schemas.ts';
import { runScan, type ScannerDeps } from '../../src/pipeline/scanner.ts';
import type { Catalog } from '../../src/domain/ports/catalog.ts';
import type { Ledger } from '../../src/domain/ports/ledger.ts';
import { newPageToken, newScanId } from '../../src/domain/jobs/ids.ts';
import { memoryCatalog, readyDocument, recordingQueue } from '../helpers/factories.ts';
import type { Config } from '../../src/config.ts';
import type { Logger } from '../../src/log.ts';

/**
 * Model-based test of scan page claims (issue 18 case 7), beside the class model of
 * ledger-model.test.ts: scan pages are not class records. Random interleavings of deliveries of a
 * `flants scan --full` and its continuations — each delivery may fail before the page's work, after
 * the page was recorded but before its continuation was sent, or after the continuation was sent but
 * before the page was marked finished (so its redelivery sends a second continuation) — concurrent
 * deliveries of two messages, the DLQ after the last delivery, and `flants redrive` (the message comes
 * back with its body and a new message id). Through runScan, against every ledger: the DynamoDB adapter
 * (test/adapters/dynamodb/scan-claims-model.test.ts) and the in-memory one
 * (test/adapters/memory/scan-claims.contract.test.ts).
 *
 * After every step: no page's work was begun by two different sent messages (a duplicate
 * continuation never runs beside the one that holds the page), and no page's work begins after the
 * page finished. At the end, with every message delivered and the DLQ redriven until both are empty:
 * every page finished and every class was enqueued — a redriven unfinished page ran.
 */

const RUNS = Number(process.env.FLANTS_MODEL_RUNS ?? 1000) / 4;
const CLASSES = 5;
const MAX_RECEIVES = 3;

/** One SQS message: `send` names the SendMessage that made it; a redrive keeps it (and the body), not the id. */
interface Msg {
  id: string;
  send: number;
  body: ScanRequest;
  receives: number;
}

type Fault = 'none' | 'catalog' | 'continuation' | 'finish';

interface Model {
  live: Msg[];
  dlq: Msg[];
  sends: number;
  /** Per page: the sends whose delivery began the page's work. */
  began: Map<string, Set<number>>;
  finished: Set<string>;
  /** Pages whose work began after they had finished (must stay empty). */
  afterFinish: string[];
  enqueued: Set<string>;
}

/** One ledger, as this contract drives it, with the settings the scanner runs under (SCAN_PAGE_SIZE 2). */
export interface ScanClaimsSubject {
  ledger: Ledger;
  cfg: Config;
  log: Logger;
  stop?(): Promise<void>;
}

interface Real {
  subject: ScanClaimsSubject;
  catalog: Catalog;
  classIds: string[];
}

type Cmd = fc.AsyncCommand<Model, Real>;

/** The page a scan message asks for, named independently of the scanner's own keys. */
function pageOf(body: ScanRequest): string {
  if (body.mode !== 'catalog') throw new Error('only catalog scans are modelled');
  const first = body.phase === undefined && body.after === undefined;
  return first ? 'first' : `${body.phase}:${body.after ?? '-'}`;
}

function send(m: Model, bodies: readonly unknown[]): void {
  for (const b of bodies)
    m.live.push({
      id: randomUUID(),
      send: ++m.sends,
      // What SQS carries: the JSON of a message valid under the current schema.
      body: ScanRequestSchema.parse(JSON.parse(JSON.stringify(b))),
      receives: 0,
    });
}

/** One delivery of `msg`, with `fault` injected; the message leaves the queue when it succeeds, or for the DLQ after its last delivery. */
async function deliver(m: Model, r: Real, msg: Msg, fault: Fault): Promise<void> {
  msg.receives++;
  const page = pageOf(msg.body);
  const queue = recordingQueue();
  const { ledger, cfg, log } = r.subject;
  const deps: ScannerDeps = {
    cfg,
    log,
    catalog: {
      ...r.catalog,
      page: (phase, after, limit) => {
        // Only a claimed page reads the catalog: this is where its work begins.
        const began = m.began.get(page) ?? new Set<number>();
        began.add(msg.send);
        m.began.set(page, began);
        if (m.finished.has(page)) m.afterFinish.push(page);
        if (fault === 'catalog') return Promise.reject(new Error('catalog unavailable (injected)'));
        return r.catalog.page(phase, after, limit);
      },
    },
    ledger: {
      ...ledger,
      finishScanPage: (scanId, key) =>
        fault === 'finish'
          ? Promise.reject(new Error('crashed before the page was marked finished (injected)'))
          : ledger.finishScanPage(scanId, key),
    },
    queue: {
      ...queue,
      sendAll: (name, bodies) => {
        if (name === 'scan') {
          if (fault === 'continuation') return Promise.reject(new Error('SQS refused the continuation (injected)'));
          send(m, bodies);
        } else for (const j of bodies as CrawlJob[]) m.enqueued.add(j.classId);
        return Promise.resolve();
      },
    },
  };
  try {
    const summary = await runScan(msg.body, deps, { messageId: msg.id });
    if (!summary.duplicate) m.finished.add(page);
    m.live = m.live.filter((x) => x !== msg);
  } catch {
    if (msg.receives >= MAX_RECEIVES) {
      m.live = m.live.filter((x) => x !== msg);
      m.dlq.push(msg);
    }
  }
}

/** `flants redrive`: every DLQ message back in the queue, same body, new message id, receive count reset. */
function redrive(m: Model): void {
  m.live.push(...m.dlq.map((x) => ({ ...x, id: randomUUID(), receives: 0 })));
  m.dlq = [];
}

function checkInvariants(m: Model): void {
  for (const [page, sends] of m.began)
    expect(sends.size, `sent messages that began page ${page}: ${[...sends].join(', ')}`).toBeLessThanOrEqual(1);
  expect(m.afterFinish, 'pages whose work began after they finished').toEqual([]);
}

class Deliver implements Cmd {
  constructor(
    readonly pick: number,
    readonly fault: Fault,
  ) {}
  check = (m: Readonly<Model>) => m.live.length > 0;
  async run(m: Model, r: Real): Promise<void> {
    await deliver(m, r, m.live[this.pick % m.live.length]!, this.fault);
    checkInvariants(m);
  }
  toString = () => `deliver(${this.pick}, ${this.fault})`;
}

/** Two messages handled at once (two scanner invocations). */
class DeliverTwo implements Cmd {
  constructor(
    readonly a: number,
    readonly b: number,
    readonly faults: [Fault, Fault],
  ) {}
  check = (m: Readonly<Model>) => m.live.length > 1;
  async run(m: Model, r: Real): Promise<void> {
    const i = this.a % m.live.length;
    const j = (i + 1 + (this.b % (m.live.length - 1))) % m.live.length;
    const [x, y] = [m.live[i]!, m.live[j]!];
    await Promise.all([deliver(m, r, x, this.faults[0]), deliver(m, r, y, this.faults[1])]);
    checkInvariants(m);
  }
  toString = () => `deliverTwo(${this.a}, ${this.b}, ${this.faults.join('/')})`;
}

class Redrive implements Cmd {
  check = (m: Readonly<Model>) => m.dlq.length > 0;
  run(m: Model): Promise<void> {
    redrive(m);
    return Promise.resolve();
  }
  toString = () => 'redrive';
}

const fault = fc.constantFrom<Fault>('none', 'none', 'catalog', 'continuation', 'finish');
const commands = [
  fc.tuple(fc.nat(), fault).map(([p, f]) => new Deliver(p, f)),
  fc.tuple(fc.nat(), fc.nat(), fault, fault).map(([a, b, f, g]) => new DeliverTwo(a, b, [f, g])),
  fc.constant(new Redrive()),
];

/** Declares the scan page claims model for one ledger; `make` builds it once, before the runs. */
export function describeScanClaimsContract(name: string, make: () => Promise<ScanClaimsSubject>): void {
  let subject: ScanClaimsSubject;
  beforeAll(async () => {
    subject = await make();
  });
  afterAll(async () => subject?.stop?.());

  describe(`scan page claims contract: ${name}`, () => {
    it(
      `a page runs once, and a redriven unfinished page runs, over ${RUNS} random interleavings`,
      { timeout: 600_000 },
      async () => {
        let n = 0;
        await fc.assert(
          fc.asyncProperty(fc.commands(commands, { maxCommands: 12 }), async (cmds) => {
            const run = n++;
            // Classes of their own each run: none is COMPLETE or in progress, so every page enqueues its classes.
            const classIds = Array.from({ length: CLASSES }, (_, i) => `scanmodel-${run}-${i}`);
            const real: Real = { subject, catalog: memoryCatalog(classIds.map((id) => readyDocument(id))), classIds };
            const model: Model = {
              live: [],
              dlq: [],
              sends: 0,
              began: new Map(),
              finished: new Set(),
              afterFinish: [],
              enqueued: new Set(),
            };
            // As `flants scan --full` sends it.
            send(model, [
              {
                v: MESSAGE_VERSION,
                type: 'scan',
                mode: 'catalog',
                scanId: newScanId(),
                full: true,
                token: newPageToken(),
              },
            ]);
            await fc.asyncModelRun(() => ({ model, real }), cmds);

            // Then nothing fails any more: every message is delivered, and the DLQ redriven, until both are empty.
            for (let rounds = 0; model.live.length + model.dlq.length > 0; rounds++) {
              expect(rounds, 'the scan ends').toBeLessThan(100);
              if (model.live.length === 0) redrive(model);
              else await deliver(model, real, model.live[0]!, 'none');
              checkInvariants(model);
            }
            // The scan reached its end: every page (no ObjectIds; strings in pages of 2) finished, every class was sent.
            expect([...model.finished].sort()).toEqual(
              ['first', 'string:-', 'string:scanmodel-' + run + '-1', 'string:scanmodel-' + run + '-3'].sort(),
            );
            expect([...model.enqueued].sort()).toEqual(classIds);
          }),
          { numRuns: RUNS },
        );
      },
    );
  });
}
