import { z } from 'zod';
import type { Detection } from './detect/types';
import { BranchHeadSchema, MAX_POLLED_BRANCHES } from './repo-polling';
import { toStorableText } from './storable-text';
import { SpanSchema } from './trace/span';
import type { BuildPhase } from './trace/timeline';

/**
 * The contract between the platform and `sparki runner`. Both sides import these schemas;
 * docs/runner-protocol.md explains the flow.
 *
 * 1. An admin mints a registration token; the runner exchanges it once for its own runner
 *    token (`POST /api/runners/register`).
 * 2. The runner opens a WebSocket to `GET /api/runners/connect` with
 *    `Authorization: Bearer <runner token>`; the workspace's RunnerHub accepts it.
 * 3. The hub offers a job (`job`), which grants a lease for one attempt; heartbeats keep the
 *    lease alive. A runner that disconnects or goes quiet loses it, and the job is offered again
 *    (up to MAX_ATTEMPTS) or the build fails with the reason.
 * 4. With the job token from the offer, the runner fetches the job spec and reports over HTTP:
 *    log lines, step states, the build output, the result.
 * 5. Repositories only a runner can reach: the hub sends each runner the ones it watches
 *    (`watch`), the runner polls their branch heads and reports them (`heads`); the hub records
 *    the changes as pushes and deleted branches (`heads_recorded`). `poll` asks for one at once.
 */
export const RUNNER_PROTOCOL_VERSION = 1;
export const HEARTBEAT_INTERVAL_MS = 5_000;
export const LEASE_TTL_MS = 20_000;
export const MAX_ATTEMPTS = 3;

export const RUNNER_TOKEN_PREFIX = 'spk_rnr_';
export const REGISTRATION_TOKEN_PREFIX = 'spk_rrt_';

const BuildId = z.uuid();
const Attempt = z.number().int().positive();
const Labels = z.array(z.string().min(1).max(50)).max(20);
const COMMAND_MAX = 10_000;
const EVIDENCE_MAX = 500;

export const RegisterRunnerRequestSchema = z.object({
  registration_token: z.string().min(1).max(200),
  name: z.string().min(1).max(100),
  labels: Labels.default([]),
  capacity: z.number().int().min(1).max(64).default(1),
  version: z.string().max(50).optional(),
});

export const RegisterRunnerResponseSchema = z.object({
  runner_id: z.uuid(),
  runner_token: z.string(),
});

/** Runner → hub, JSON text frames. */
export const RunnerMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    version: z.literal(RUNNER_PROTOCOL_VERSION),
    // Builds it is still running, after a reconnect: their leases carry on.
    running: z.array(BuildId).default([]),
  }),
  z.object({ type: z.literal('heartbeat'), running: z.array(BuildId) }),
  // Handing a job back unfinished (SIGTERM drain): offered again without counting a failure.
  z.object({
    type: z.literal('release'),
    build_id: BuildId,
    attempt: Attempt,
    reason: z.string().max(500),
  }),
  // The branch heads of a watched repository, all of them, after a poll found a change.
  z.object({
    type: z.literal('heads'),
    project_id: z.uuid(),
    heads: z.array(BranchHeadSchema).max(MAX_POLLED_BRANCHES),
  }),
]);
export type RunnerMessage = z.infer<typeof RunnerMessageSchema>;

/** Hub → runner. */
export const HubMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('welcome'),
    runner_id: z.uuid(),
    heartbeat_interval_ms: z.number().int().positive(),
    lease_ttl_ms: z.number().int().positive(),
  }),
  z.object({
    type: z.literal('job'),
    build_id: BuildId,
    attempt: Attempt,
    job_token: z.string(),
  }),
  z.object({ type: z.literal('cancel'), build_id: BuildId, reason: z.string() }),
  z.object({ type: z.literal('error'), message: z.string() }),
  // The repositories this runner polls, replacing the previous list (empty: none).
  z.object({
    type: z.literal('watch'),
    repos: z.array(
      z.object({
        project_id: z.uuid(),
        repo_url: z.string(),
        interval_ms: z.number().int().positive(),
      }),
    ),
  }),
  // Poll this watched repository now (a git hook said it changed).
  z.object({ type: z.literal('poll'), project_id: z.uuid() }),
  // A `heads` report was recorded: builds queued and branches retired. Unanswered, it is sent
  // again after the next poll.
  z.object({
    type: z.literal('heads_recorded'),
    project_id: z.uuid(),
    queued: z.number().int().nonnegative(),
    deleted: z.number().int().nonnegative(),
  }),
]);
export type HubMessage = z.infer<typeof HubMessageSchema>;

/** `GET /api/jobs/{buildId}` with `Authorization: Bearer <job token>`. */
/** HTTP Basic credentials for a job's checkout (the spec's `checkout_auth`). */
export const CheckoutAuthSchema = z.object({
  username: z.string().min(1),
  password: z.string().min(1),
});
export type CheckoutAuth = z.infer<typeof CheckoutAuthSchema>;

export const JobSpecSchema = z.object({
  build_id: BuildId,
  project_id: z.uuid(),
  attempt: Attempt,
  repo_url: z.string(),
  // Null (older platforms: empty) for the head of `branch`: the runner reports the sha it checked
  // out with `POST …/commit`.
  commit_sha: z.string().nullable(),
  branch: z.string().nullable(),
  // Optional for runners that talk to an older platform.
  build_number: z.number().int().positive().optional(),
  // The target environment's image template (deploy_config.image), for builds that push one.
  image_template: z.string().nullable().default(null),
  root_dir: z.string(),
  // Plain variables and decrypted secrets, for the steps' environment.
  env: z.record(z.string(), z.string()),
  // Names in `env` whose values must be masked in every line that leaves the runner.
  secret_names: z.array(z.string()),
  // Project settings that override detection (same shape as sparki.json's build fields).
  overrides: z.record(z.string(), z.unknown()),
  limits: z.object({
    build_timeout_ms: z.number().int().positive(),
    step_timeout_ms: z.number().int().positive(),
  }),
  // The W3C trace context the attempt continues (its lease's span): the runner's spans are its
  // children, and every job API call sends the runner's current one as `traceparent`. Null from
  // a platform that does not trace.
  traceparent: z.string().nullable().default(null),
  // Credentials for the checkout only (HTTP Basic), e.g. a short-lived GitHub App installation
  // token for a private repository. Never part of the steps' environment. Null (older platforms:
  // absent) to fetch without credentials.
  checkout_auth: CheckoutAuthSchema.nullable().default(null),
});
export type JobSpec = z.infer<typeof JobSpecSchema>;

/** The timeline phases a runner records; the platform records the others. */
export const RUNNER_PHASES = [
  'runner_picked',
  'checkout',
  'install',
  'build',
  'upload',
] as const satisfies readonly BuildPhase[];

/**
 * `POST /api/jobs/{buildId}/spans`: the runner's finished spans of the attempt, in the build's
 * trace; those with a `phase` make the build's timeline. Sent before the result.
 */
export const SpanReportSchema = z.object({
  spans: z
    .array(SpanSchema.extend({ phase: z.enum(RUNNER_PHASES).nullable().default(null) }))
    .min(1)
    .max(50),
});
export type SpanReport = z.input<typeof SpanReportSchema>;

export const LogStreamSchema = z.enum(['stdout', 'stderr', 'system']);

/**
 * `POST /api/jobs/{buildId}/logs`: lines in the order they were produced. `batch_seq` numbers an
 * attempt's batches from 1; a batch sent again with a number already applied (a retry after a
 * lost answer) is acknowledged without its lines being appended twice. Optional: a batch without
 * it is always appended.
 */
export const LogBatchSchema = z.object({
  batch_seq: z.number().int().positive().optional(),
  lines: z
    .array(
      z.object({
        stream: LogStreamSchema,
        // Output may hold U+0000, or half a surrogate pair where a long line was cut: one such
        // character must not cost the batch, which every other request would be refused for.
        text: z
          .string()
          .max(64 * 1024)
          .transform(toStorableText),
        step_id: z.string().max(100).optional(),
        ts: z.number().int().nonnegative(),
      }),
    )
    .min(1)
    .max(1000),
});
export type LogBatch = z.infer<typeof LogBatchSchema>;

export const StepStatusSchema = z.enum([
  'pending',
  'running',
  'succeeded',
  'failed',
  'skipped',
  'canceled',
]);

/** `POST /api/jobs/{buildId}/steps`: the plan first (all pending), then each change. */
export const StepReportSchema = z.object({
  steps: z
    .array(
      z.object({
        id: z.string().min(1).max(100),
        position: z.number().int().nonnegative(),
        name: z.string().min(1).max(200),
        command: z.string().max(COMMAND_MAX),
        status: StepStatusSchema,
        exit_code: z.number().int().nullable().optional(),
        started_at: z.iso.datetime().nullable().optional(),
        finished_at: z.iso.datetime().nullable().optional(),
      }),
    )
    .min(1)
    .max(100),
});
export type StepReport = z.infer<typeof StepReportSchema>;

/** A full commit id, as git prints it. */
export const CommitShaSchema = z
  .string()
  .regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/, 'a full 40 or 64 hex digit commit sha');

/**
 * `POST /api/jobs/{buildId}/commit`, right after checkout: the commit the runner checked out and
 * its committer date (`git show -s --format=%cI`). The sha is recorded only when the build had
 * none (a branch head build), the date only when the build has none from its webhook; the answer
 * is the build's commit.
 */
export const CommitReportSchema = z.object({
  commit_sha: CommitShaSchema,
  committed_at: z.iso.datetime({ offset: true }).optional(),
});
export type CommitReport = z.infer<typeof CommitReportSchema>;

/**
 * `POST /api/jobs/{buildId}/detection`, once detection has run: what the build will do and why
 * its framework was chosen. The platform records it on the project (the newest build's wins).
 */
export const DetectionReportSchema = z.object({
  root_dir: z.string().max(255),
  framework: z.string().max(50).nullable(),
  framework_evidence: z.string().max(EVIDENCE_MAX),
  package_manager: z.string().max(50).nullable(),
  install_command: z.string().max(COMMAND_MAX).nullable(),
  build_command: z.string().max(COMMAND_MAX).nullable(),
  output_directory: z.string().max(255).nullable(),
  runtime: z.string().max(50).nullable(),
});
export type DetectionReport = z.infer<typeof DetectionReportSchema>;

/** The report of a detection, cut to the lengths the platform takes. */
export function detectionReport(detection: Detection): DetectionReport {
  const command = (value: string | null) => value?.slice(0, COMMAND_MAX) ?? null;
  return {
    root_dir: detection.rootDir,
    framework: detection.framework.value,
    framework_evidence: detection.framework.evidence.slice(0, EVIDENCE_MAX),
    package_manager: detection.packageManager.value?.name ?? null,
    install_command: command(detection.installCommand.value),
    build_command: command(detection.buildCommand.value),
    output_directory: detection.outputDirectory.value,
    runtime: detection.runtime.value,
  };
}

/** `POST /api/jobs/{buildId}/complete`. The build output goes first, with `PUT …/artifact`. */
export const JobResultSchema = z.object({
  status: z.enum(['succeeded', 'failed', 'canceled', 'timed_out']),
  error: z.string().max(2000).optional(),
});
export type JobResult = z.infer<typeof JobResultSchema>;
