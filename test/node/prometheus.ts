import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import getPort from 'get-port';

/** Debian's `prometheus` package (.ci/run installs it); the tests scrape with the real thing. */
export const PROMETHEUS = process.env.PROMETHEUS_PATH ?? '/usr/bin/prometheus';
export const PROMTOOL = process.env.PROMTOOL_PATH ?? '/usr/bin/promtool';

export interface RunningPrometheus {
  /** The value of an instant query's single sample; undefined when it has none. */
  value(expr: string): Promise<number | undefined>;
  stop(): Promise<void>;
  output(): string;
}

/** A Prometheus scraping `target`'s /metrics every second with the token in `tokenFile`. */
export async function startPrometheus(
  dir: string,
  target: string,
  tokenFile: string,
): Promise<RunningPrometheus> {
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    [
      'global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      '  - job_name: sparki',
      '    metrics_path: /metrics',
      `    authorization: { type: Bearer, credentials_file: ${JSON.stringify(tokenFile)} }`,
      `    static_configs: [{ targets: [${JSON.stringify(target)}] }]`,
      '',
    ].join('\n'),
  );
  const port = await getPort();
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ready = await fetch(`${base}/-/ready`).catch(() => undefined);
    if (ready?.ok) break;
    if (i > 300 || child.exitCode !== null) throw new Error(`prometheus did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    async value(expr) {
      const response = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await response.json()) as {
        status: string;
        error?: string;
        data: { resultType: string; result: { value: [number, string] }[] | [number, string] };
      };
      if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
      const { resultType, result } = body.data;
      if (resultType === 'scalar') return Number((result as [number, string])[1]);
      const samples = result as { value: [number, string] }[];
      if (samples.length > 1) throw new Error(`${expr}: ${samples.length} samples`);
      return samples[0] ? Number(samples[0].value[1]) : undefined;
    },
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** `promtool check metrics`: the exposition's lint by Prometheus's own tool. */
export function promtoolCheck(text: string) {
  const run = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}
