import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_PHASES } from '../../core/trace/timeline';
import { type ReceivedSpan, startOtlpReceiver } from '../otlp-receiver';
import { type E2E, git, startE2E } from './e2e-helpers';
import { STARTUP_TIMEOUT_MS } from './stack';

/**
 * One trace per pipeline run, with nothing faked (issue 14): the dev stack exporting to a local
 * OTLP/HTTP receiver, a signed push, a real runner building the commit (an install and a build
 * step, an upload), the deploy engine deploying it to the edge host and health-checking it until
 * it is live. The timeline the API shows and the spans the receiver got are the same run's.
 */
const HEALTHY = '<p data-health="ok"></p>';
const files = {
  'package.json': JSON.stringify({
    name: 'traced',
    private: true,
    scripts: { build: 'node build.js' },
  }),
  'install.js': "require('node:fs').writeFileSync('installed.txt', 'yes')",
  'build.js': `
const fs = require('node:fs');
fs.mkdirSync('dist', { recursive: true });
fs.writeFileSync('dist/index.html', '<h1>traced ' + fs.readFileSync('installed.txt', 'utf8') + '</h1>${HEALTHY}');
`,
};

interface Timeline {
  trace_id: string;
  phases: { phase: string; started_at: string; duration_ms: number; status: string }[];
  total_ms: number;
}

describe('a pipeline run’s trace and timeline, end to end', () => {
  let e2e: E2E;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    e2e = await startE2E(files, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=e2e%20key',
    });
    const runner = await e2e.registerRunner('runner-trace');
    e2e.startRunner(runner.config);
  }, STARTUP_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    if (e2e) await e2e.stop();
    await receiver?.close();
  });

  it('push → live: every phase on the timeline, and the spans at the collector one trace with its parents', async () => {
    const { project } = e2e;
    await e2e.api('PATCH', `/api/projects/${project.id}/settings`, {
      overrides: { installCommand: 'node install.js', outputDirectory: 'dist' },
    });
    const { environments } = await e2e.api<{ environments: { id: string; kind: string }[] }>(
      'GET',
      `/api/projects/${project.id}/environments`,
    );
    const production = environments.find((env) => env.kind === 'production')!;
    await e2e.api('PATCH', `/api/environments/${production.id}/deploy-settings`, {
      deploy_config: { health_check: { body_contains: HEALTHY, retries: 0, interval_ms: 0 } },
    });

    const delivered = await e2e.deliver(randomUUID(), git(e2e.repo, 'rev-parse', 'HEAD'));
    expect(delivered.body.status).toBe('queued');
    const buildId = delivered.body.build_id!;
    await e2e.buildSucceeded(buildId);

    const timeline = await e2e.waitFor(
      'the timeline to reach live',
      async () => {
        const current = await e2e.api<Timeline>('GET', `/api/builds/${buildId}/timeline`);
        return current.phases.some((phase) => phase.phase === 'live') && current;
      },
      90_000,
    );
    expect(timeline.phases.map((phase) => phase.phase)).toEqual([...BUILD_PHASES]);
    for (const phase of timeline.phases) {
      expect(phase.status, phase.phase).toBe('ok');
      expect(phase.duration_ms).toBeGreaterThanOrEqual(0);
    }
    // In order: each phase starts no earlier than the one before it began.
    const starts = timeline.phases.map((phase) => Date.parse(phase.started_at));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(timeline.total_ms).toBeGreaterThan(0);

    const traced = () => receiver.spans.filter((span) => span.traceId === timeline.trace_id);
    await e2e.waitFor(
      'the live span at the collector',
      async () => traced().some((span) => span.name === 'live'),
      30_000,
    );
    const spans = traced();
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const one = (name: string | RegExp, service = 'sparki') => {
      const found = spans.filter(
        (span) =>
          span.service === service &&
          (typeof name === 'string' ? span.name === name : name.test(span.name)),
      );
      expect(
        found.map((span) => span.name),
        String(name),
      ).toHaveLength(1);
      return found[0]!;
    };
    const parentOf = (span: ReceivedSpan) => byId.get(span.parentSpanId ?? '');

    const webhook = one(/^POST \/webhooks\//);
    expect(webhook.parentSpanId).toBeUndefined();
    expect(webhook.kind).toBe(2); // server
    const consumer = one('sparki-builds process');
    const planned = one('planned');
    const attempt = one(/^build attempt 1$/, 'sparki-runner');
    const complete = one('POST /api/jobs/:buildId/complete');
    const deployQueue = one('sparki-deployments process');
    const deploy = one(/^deploy /);
    // Production checks the deployment on its own URL, then again once it serves production.
    const checks = spans.filter((span) => span.name === 'health check');
    expect(checks.length).toBeGreaterThanOrEqual(1);
    const live = one('live');
    // webhook → builds queue → RunnerHub → runner → job API → deployments queue → deploy → health check.
    expect(parentOf(consumer)).toBe(webhook);
    expect(parentOf(one('queued'))).toBe(webhook);
    expect(parentOf(planned)).toBe(consumer);
    expect(parentOf(attempt)).toBe(planned);
    for (const phase of ['runner picked', 'checkout', 'install', 'build', 'upload']) {
      expect(parentOf(one(phase, 'sparki-runner')), phase).toBe(attempt);
    }
    expect(parentOf(complete)).toBe(attempt);
    expect(parentOf(deployQueue)).toBe(complete);
    expect(parentOf(deploy)).toBe(deployQueue);
    for (const check of checks) {
      expect(parentOf(check)).toBe(deploy);
      expect(check.kind).toBe(3); // client
      expect(check.attributes['sparki.phase']).toBe('health_check');
    }
    expect(parentOf(live)).toBe(deploy);
    // Every span the trace holds hangs from the webhook's: no hop lost its parent.
    for (const span of spans) {
      let root = span;
      for (let hops = 0; root.parentSpanId && hops < 20; hops++) root = parentOf(root)!;
      expect(root, `${span.name} (${span.service})`).toBe(webhook);
    }
    // A phase's span at the collector is where the timeline's phase came from.
    const install = timeline.phases.find((phase) => phase.phase === 'install')!;
    expect(one('install', 'sparki-runner').startNs / 1_000_000n).toBe(
      BigInt(Date.parse(install.started_at)),
    );
    expect(
      receiver.requests.every((request) => request.headers['x-collector-key'] === 'e2e key'),
    ).toBe(true);
  }, 240_000);
});
