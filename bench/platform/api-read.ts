import autocannon from 'autocannon';
import type { Report } from '../report';
import { percentile } from '../stats';

const CONNECTIONS = 100;
const SECONDS = Number(process.env.BENCH_API_SECONDS ?? 10);

interface Load {
  throughput: number;
  p95: number;
  errors: number;
}

/** `CONNECTIONS` connections asking `url` as fast as it answers for `SECONDS`. */
function load(url: string, headers: Record<string, string> = {}, seconds = SECONDS): Promise<Load> {
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url, connections: CONNECTIONS, duration: seconds, headers },
      (error, result) => {
        if (error) return reject(error);
        resolve({
          throughput: result['2xx'] / result.duration,
          p95: percentile(latencies, 0.95),
          errors: result.errors + result.non2xx,
        });
      },
    );
    instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  });
}

/** (c) an authenticated `GET /api/projects/{id}` against `/healthz` on the same server. */
export async function benchApiRead(
  stack: {
    base: string;
    token(): Promise<string>;
    newProject(slug: string, files: Record<string, string>): Promise<{ id: string }>;
  },
  report: Report,
) {
  const project = await stack.newProject('api-read', { 'index.html': 'ok' });
  const headers = { authorization: `Bearer ${await stack.token()}` };
  const read = `${stack.base}/api/projects/${project.id}`;
  // Warm both paths (isolate, connection pool) before measuring.
  await load(`${stack.base}/healthz`, {}, 2);
  await load(read, headers, 2);
  const health = await load(`${stack.base}/healthz`);
  const api = await load(read, headers);
  const note = `${CONNECTIONS} connections, ${SECONDS} s each`;
  report.add(
    'c',
    'GET /api/projects/{id} throughput',
    'req/s',
    api.throughput,
    {
      name: '/healthz',
      value: health.throughput,
    },
    note,
  );
  report.add('c', 'GET /api/projects/{id} p95', 'ms', api.p95, {
    name: '/healthz',
    value: health.p95,
  });
  report.add('c', 'GET /api/projects/{id} errors (non-2xx or failed)', 'errors', api.errors, {
    name: '/healthz',
    value: health.errors,
  });
}
