import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the loopback CloudWatch received it. */
export interface CloudWatchRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The JSON body (awsJson1_0: what @aws-sdk/client-cloudwatch 3.1164 sends). */
  body: Record<string, unknown>;
}

/** A datapoint series as the server answers it: timestamps in epoch seconds (the JSON protocol's form). */
export interface SeriesAnswer {
  Id: string;
  Timestamps: number[];
  Values: number[];
  StatusCode?: string;
}

/**
 * A loopback server speaking CloudWatch's JSON protocol (awsJson1_0, X-Amz-Target
 * GraniteServiceVersion20100801.<Operation>), enough for GetMetricData: each request is recorded and
 * answered by `answer`, or with a JSON error `__type` when `answer` throws.
 */
export async function startCloudWatchServer(
  answer: (req: CloudWatchRequest) => { MetricDataResults: SeriesAnswer[] },
): Promise<{ endpoint: string; requests: CloudWatchRequest[]; close(): Promise<void> }> {
  const requests: CloudWatchRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const r: CloudWatchRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      };
      requests.push(r);
      try {
        const out = JSON.stringify({ ...answer(r), Messages: [] });
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(out);
      } catch (err) {
        res
          .writeHead(400, { 'content-type': 'application/x-amz-json-1.0' })
          .end(JSON.stringify({ __type: 'InvalidParameterValue', message: String(err) }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
