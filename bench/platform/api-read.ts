import autocannon from 'autocannon';
import type { Report } from '../report';
import { percentile } from '../stats';

const CONNECTIONS = 100;
const SECONDS = Number(process.env.BENCH_API_SECONDS ?? 10);
/**
 * Windows of each, taken in turn (health, read, health, read…): a 10 s window on a shared machine
 * moved the ratio by ±0.06 from one run to the next, and alternating keeps a drift of the machine
 * from landing on one side only. Each figure is the median of its windows.
 */
const ROUNDS = Number(process.env.BENCH_API_ROUNDS ?? 3);
/**
 * autocannon gives up on an answer after 10 s by default and counts it as an error: on a loaded
 * machine that measured the client's patience, not what the server answered.
 */
const TIMEOUT_SECONDS = 30;

interface Load {
  throughput: number;
  latencies: number[];
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
          latencies,
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

/** The median window's throughput; p95 over every answer; errors and refusals summed. */
function combined(rounds: Load[]) {
  return {
    throughput: percentile(
      rounds.map((r) => r.throughput),
      0.5,
    ),
    p95: percentile(
      rounds.flatMap((r) => r.latencies),
      0.95,
    ),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    refused: rounds.reduce((sum, r) => sum + r.refused, 0),
  };
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
  const healthRounds: Load[] = [];
  const apiRounds: Load[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    healthRounds.push(await load(`${stack.base}/healthz`));
    apiRounds.push(await load(read, headers));
  }
  const health = combined(healthRounds);
  const api = combined(apiRounds);
  const note = `${CONNECTIONS} connections, ${ROUNDS} windows of ${SECONDS} s each, in turn`;
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
