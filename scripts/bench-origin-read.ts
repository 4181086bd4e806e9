/**
 * What reading one origin response costs in CPU, two ways: undici's `request()` with its body
 * stream read by `for await` (what the origin client does), against a dispatch handler that takes
 * the chunks as they arrive (what "What is left" in docs/BENCHMARKS.md proposes). A local HTTP
 * server in a child process serves one body of `--kb` KB; the figure is this process's CPU per
 * request, kernel reads included. Prints figures; asserts nothing.
 *
 *   node --import tsx scripts/bench-origin-read.ts [--kb 320] [--requests 3000] [--rounds 3]
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';

const { values } = parseArgs({
  options: {
    kb: { type: 'string', default: '320' },
    requests: { type: 'string', default: '3000' },
    rounds: { type: 'string', default: '3' },
    serve: { type: 'boolean', default: false },
  },
});
const body = Buffer.alloc(Number(values.kb) * 1000, 7);

if (values.serve) {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': String(body.length) });
    res.end(body);
  });
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as AddressInfo).port));
} else {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', '--kb', values.kb], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(m as number)));
  const agent = new Agent({ connections: 8 });
  const origin = `http://127.0.0.1:${port}`;
  const total = Number(values.requests);

  const viaRequest = async (): Promise<number> => {
    const res = await request(`${origin}/x`, { dispatcher: agent });
    let n = 0;
    for await (const chunk of res.body) n += (chunk as Buffer).length;
    return n;
  };
  const viaDispatch = (): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      let n = 0;
      agent.dispatch(
        { origin, path: '/x', method: 'GET' },
        {
          onRequestStart: () => undefined,
          onResponseStart: () => undefined,
          onResponseData: (_c, chunk) => void (n += chunk.length),
          onResponseEnd: () => resolve(n),
          onResponseError: (_c, err) => reject(err),
        },
      );
    });

  /** CPU microseconds per request, 8 at once, after a warm-up. */
  const measure = async (read: () => Promise<number>): Promise<number> => {
    for (let i = 0; i < 200; i++) await read();
    const before = process.cpuUsage();
    for (let i = 0; i < total; i += 8) await Promise.all(Array.from({ length: 8 }, read));
    const used = process.cpuUsage(before);
    return (used.user + used.system) / total;
  };
  for (let round = 1; round <= Number(values.rounds); round++) {
    const a = await measure(viaRequest);
    const b = await measure(viaDispatch);
    console.log(
      `round ${round}: request() + body stream ${a.toFixed(0)} µs, dispatch handler ${b.toFixed(0)} µs of CPU per ${values.kb} KB response`,
    );
  }
  child.kill();
  await agent.close();
}
