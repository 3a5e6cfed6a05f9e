import autocannon from 'autocannon';
import type { Report } from '../report';
import { percentile } from '../stats';

const CONNECTIONS = 100;
const SECONDS = Number(process.env.BENCH_API_SECONDS ?? 10);
/**
 * autocannon gives up on an answer after 10 s by default and counts it as an error: on a loaded
 * machine that measured the client's patience, not what the server answered.
 */
const TIMEOUT_SECONDS = 30;

interface Load {
  throughput: number;
  p95: number;
  /** Answers that are neither 2xx nor a documented refusal, plus timeouts and dropped connections. */
  errors: number;
  /** 503/429 answers: the API's documented "retry after" under load, counted apart from errors. */
  refused: number;
}

const REFUSALS = new Set([429, 503]);

/** `CONNECTIONS` connections asking `url` as fast as it answers for `SECONDS`. */
function load(url: string, headers: Record<string, string> = {}, seconds = SECONDS): Promise<Load> {
  const latencies: number[] = [];
  let refused = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url, connections: CONNECTIONS, duration: seconds, headers, timeout: TIMEOUT_SECONDS },
      (error, result) => {
        if (error) return reject(error);
        resolve({
          throughput: result['2xx'] / result.duration,
          p95: percentile(latencies, 0.95),
          errors: result.errors + result.non2xx - refused,
          refused,
        });
      },
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      latencies.push(ms);
      if (REFUSALS.has(status)) refused++;
    });
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
  report.add(
    'c',
    'GET /api/projects/{id} errors (failed, or non-2xx other than 503/429)',
    'errors',
    api.errors,
    {
      name: '/healthz',
      value: health.errors,
    },
  );
  report.add('c', 'GET /api/projects/{id} refused (503/429, Retry-After)', 'answers', api.refused, {
    name: '/healthz',
    value: health.refused,
  });
}
