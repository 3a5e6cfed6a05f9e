import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { buildSteps } from '../../core/build-steps';
import { DetectionError, detect } from '../../core/detect';
import {
  detectionReport,
  type JobResult,
  type JobSpec,
  type StepReport,
} from '../../core/runner-protocol';
import { createMasker } from '../../core/secret-masker';
import { fileSystemTree } from '../fs-tree';
import { type BuildCache, type CacheStore, openBuildCache } from './cache';
import {
  checkoutEnvironment,
  imageEnvironment,
  passedEnvironment,
  passedSecrets,
  secretValues,
  stepEnvironment,
} from './environment';
import { CheckoutError, checkoutCommit, checkoutSecrets, commitTimestamp } from './git-checkout';
import { planInstall } from './installed-tree';
import { JobApi } from './job-api';
import { JobTrace } from './job-trace';
import { type LogLine, LogShipper } from './log-shipper';
import { OutputLines } from './output-lines';
import { listOutput, OutputError, progressLines, uploadOutput } from './output-upload';
import { runInProcessGroup } from './process-group';
import { duration } from './units';

type Step = StepReport['steps'][number];

export interface JobOffer {
  build_id: string;
  attempt: number;
  job_token: string;
}

export interface JobContext {
  url: string;
  workDir: string;
  hostEnv: NodeJS.ProcessEnv;
  /** Host variables passed on to the build (CA certificates, proxies, what the runner lists). */
  passEnv: readonly string[];
  /** Dependency caches kept between builds; none with --cache-max-mb 0. */
  caches?: CacheStore;
  log(message: string): void;
}

/** Why a job stopped before its steps finished on their own. */
type Stop =
  | { kind: 'canceled'; reason: string }
  | { kind: 'released'; reason: string }
  | { kind: 'timed_out'; reason: string }
  | { kind: 'lost'; reason: string };

/** How the job ended for the runner: reported to the platform, or to be handed back. */
export type JobEnd = 'completed' | 'released' | 'lost';

/** Errors that fail the build with their message, as opposed to the runner's own bugs. */
const BUILD_ERRORS = [CheckoutError, DetectionError, OutputError];

class Stopped extends Error {}

/**
 * One attempt at one build: fetch the spec, check out, detect, run the steps, upload the
 * output, report the result. Every line leaves through the shipper, masked.
 */
export class Job {
  readonly buildId: string;
  readonly attempt: number;
  readonly done: Promise<JobEnd>;
  private readonly controller = new AbortController();
  private readonly api: JobApi;
  private readonly shipper: LogShipper;
  private readonly trace = new JobTrace();
  private readonly passed: Record<string, string>;
  private secrets: string[] = [];
  private mask: (text: string) => string = (text) => text;

  constructor(
    offer: JobOffer,
    private readonly context: JobContext,
  ) {
    this.buildId = offer.build_id;
    this.attempt = offer.attempt;
    this.api = new JobApi(context.url, offer.build_id, offer.job_token, () =>
      this.trace.traceparent(),
    );
    this.passed = passedEnvironment(context.hostEnv, context.passEnv);
    this.shipper = new LogShipper(
      (batch) => this.api.logs(batch),
      (error) => this.stop({ kind: 'lost', reason: `log delivery failed: ${message(error)}` }),
    );
    this.done = this.run();
  }

  /** The hub canceled the build. */
  cancel(reason: string): void {
    this.stop({ kind: 'canceled', reason });
  }

  /** Stops the job and resolves once its processes are gone, so it can be handed back. */
  async release(reason: string): Promise<JobEnd> {
    this.stop({ kind: 'released', reason });
    return this.done;
  }

  private stop(stop: Stop): void {
    if (!this.controller.signal.aborted) this.controller.abort(stop);
  }

  private get stopped(): Stop | undefined {
    return this.controller.signal.aborted ? (this.controller.signal.reason as Stop) : undefined;
  }

  private checkStopped(): void {
    if (this.stopped) throw new Stopped();
  }

  private async run(): Promise<JobEnd> {
    const jobDir = join(this.context.workDir, `${this.buildId}-${this.attempt}`);
    let deadline: ReturnType<typeof setTimeout> | undefined;
    try {
      const spec = await this.api.spec();
      this.trace.begin(spec);
      this.secrets = [
        ...secretValues(spec),
        ...passedSecrets(this.passed),
        ...checkoutSecrets(spec.checkout_auth),
      ];
      this.mask = createMasker(this.secrets);
      deadline = setTimeout(
        () =>
          this.stop({
            kind: 'timed_out',
            reason: `the build exceeded its ${duration(spec.limits.build_timeout_ms)} time limit`,
          }),
        spec.limits.build_timeout_ms,
      );
      const result = await this.build(spec, jobDir);
      return await this.finish(result);
    } catch (error) {
      return await this.finish(this.failure(error));
    } finally {
      clearTimeout(deadline);
      await rm(jobDir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  private failure(error: unknown): JobResult {
    if (error instanceof Stopped || this.stopped) return this.stoppedResult();
    if (BUILD_ERRORS.some((type) => error instanceof type)) {
      this.system(`Error: ${message(error)}`);
      return { status: 'failed', error: this.mask(message(error)).slice(0, 2000) };
    }
    this.context.log(`build ${this.buildId}: ${message(error)}`);
    this.stop({ kind: 'lost', reason: message(error) });
    return this.stoppedResult();
  }

  private stoppedResult(): JobResult {
    const stop = this.stopped!;
    if (stop.kind === 'canceled') return { status: 'canceled', error: stop.reason };
    if (stop.kind === 'timed_out') return { status: 'timed_out', error: stop.reason };
    return { status: 'failed', error: stop.reason };
  }

  private async finish(result: JobResult): Promise<JobEnd> {
    const stop = this.stopped;
    if (stop?.kind === 'lost') {
      this.context.log(`build ${this.buildId}: given up (${stop.reason})`);
      return 'lost';
    }
    if (stop?.kind === 'released') this.system(`Handing the build back: ${stop.reason}`);
    else this.system(`Build ${result.status}${result.error ? `: ${result.error}` : ''}`);
    try {
      await this.shipper.flush();
      if (stop?.kind === 'released') return 'released';
      if (!(await this.api.spans(this.trace.end(result))))
        this.context.log(`build ${this.buildId}: its trace spans were not recorded`);
      await this.api.complete(result);
      return 'completed';
    } catch (error) {
      this.context.log(`build ${this.buildId}: could not report the result: ${message(error)}`);
      return 'lost';
    }
  }

  private async build(spec: JobSpec, jobDir: string): Promise<JobResult> {
    const source = join(jobDir, 'source');
    const home = join(jobDir, 'home');
    const tmp = join(jobDir, 'tmp');
    await rm(jobDir, { recursive: true, force: true });
    await Promise.all([mkdir(home, { recursive: true }), mkdir(tmp, { recursive: true })]);
    this.system(`Build ${spec.build_id}, attempt ${spec.attempt}`);
    this.trace.enter('checkout');
    const host = this.context.hostEnv;
    const checkout = {
      repoUrl: spec.repo_url,
      commitSha: spec.commit_sha,
      branch: spec.branch,
      dir: source,
      env: checkoutEnvironment({ home, host, passed: this.passed }),
      auth: spec.checkout_auth,
      signal: this.controller.signal,
      log: (text: string) => this.system(text),
    };
    const sha = await checkoutCommit(checkout);
    this.checkStopped();
    // A branch head build learns which commit it is (statuses, deployments), and every build its
    // commit time where the webhook gave none (the DORA lead time).
    await this.api.commit(sha, await commitTimestamp(checkout));

    const detection = await detect(await fileSystemTree(source), {
      rootDir: spec.root_dir || undefined,
      settings: spec.overrides,
    });
    const framework = detection.framework;
    this.system(`Framework: ${framework.value ?? 'none'} (${framework.evidence})`);
    await this.api.detection(detectionReport(detection));
    const root = join(source, detection.rootDir);
    const projectId = spec.project_id;
    const cache = await this.openCache({ projectId, detection, checkout: source, jobDir, home });
    const env = {
      ...stepEnvironment({
        spec: { ...spec, commit_sha: sha },
        home,
        tmp,
        host,
        passed: this.passed,
        cache: cache?.env,
      }),
      ...imageEnvironment(spec, sha, (text) => this.system(text)),
    };
    const install = await planInstall(cache, detection, root, env);
    for (const note of install?.notes ?? []) this.system(note);
    const steps: Step[] = buildSteps(detection).map((step, position) => ({
      ...step,
      // npm's install runs over a restored tree when the cache has one (installed-tree.ts).
      command: step.id === 'install' && install ? install.command : step.command,
      position,
      status: 'pending' as const,
    }));
    if (steps.length > 0) await this.api.steps({ steps });

    try {
      const failure = await this.runSteps(steps, spec, root, env, install?.afterInstall);
      if (failure) return failure;
    } finally {
      const installed = steps.some((step) => step.id === 'install' && step.status === 'succeeded');
      await cache
        ?.release(installed)
        .catch((error) => this.context.log(`cache: ${message(error)}`));
    }

    const output = detection.outputDirectory.value;
    if (output === null) {
      this.system('No output directory: nothing to upload');
    } else {
      this.trace.enter('upload');
      await this.uploadOutput(join(root, output));
      this.trace.leave();
    }
    return { status: 'succeeded' };
  }

  /** Runs the steps in order; the build's failure if one fails. */
  private async runSteps(
    steps: Step[],
    spec: JobSpec,
    root: string,
    env: Record<string, string>,
    afterInstall?: () => Promise<string | undefined>,
  ): Promise<JobResult | undefined> {
    for (const [index, step] of steps.entries()) {
      if (await this.runStep(step, spec, root, env)) {
        const note = step.id === 'install' ? await afterInstall?.() : undefined;
        if (note) this.system(note);
        continue;
      }
      await this.skip(steps.slice(index + 1));
      if (this.stopped) throw new Stopped();
      return {
        status: 'failed',
        error: `step "${step.name}" failed (exit code ${step.exit_code})`,
      };
    }
    return undefined;
  }

  /** The project's dependency cache, when the runner keeps them; the log says hit or miss. */
  private async openCache(build: Omit<BuildCache, 'lease'>) {
    const { caches } = this.context;
    const lease = `${this.buildId}-${this.attempt}`;
    if (!caches) return undefined;
    const cache = await openBuildCache(caches, { ...build, lease }).catch((error) => {
      this.system(`cache: not used (${message(error)})`);
      return undefined;
    });
    if (cache) this.system(cache.summary);
    return cache;
  }

  /** Content-addressed: only what the platform lacks is sent, with progress in the log. */
  private async uploadOutput(outputDir: string) {
    this.system(`Hashing the output directory ${outputDir}`);
    const files = await listOutput(outputDir, (path, why) =>
      this.system(`Skipping ${path}: ${why}`),
    );
    this.checkStopped();
    await uploadOutput(
      this.api,
      files,
      progressLines((text) => this.system(text)),
    );
    this.system('Build output stored');
  }

  private async runStep(
    step: Step,
    spec: JobSpec,
    cwd: string,
    env: Record<string, string>,
  ): Promise<boolean> {
    this.checkStopped();
    if (step.id === 'install' || step.id === 'build') this.trace.enter(step.id);
    await this.updateStep(step, { status: 'running', started_at: new Date().toISOString() });
    this.system(`$ ${step.command}`, step.id);
    const line = (stream: 'stdout' | 'stderr') => (text: string) =>
      this.shipper.push({ stream, text, step_id: step.id, ts: Date.now() });
    const stdout = new OutputLines(this.secrets, line('stdout'));
    const stderr = new OutputLines(this.secrets, line('stderr'));
    const outcome = await runInProcessGroup(step.command, {
      cwd,
      env,
      timeoutMs: spec.limits.step_timeout_ms,
      signal: this.controller.signal,
      onStdout: (chunk) => stdout.write(chunk),
      onStderr: (chunk) => stderr.write(chunk),
    });
    stdout.end();
    stderr.end();
    const finished_at = new Date().toISOString();
    if (outcome.kind === 'exited') {
      const status = outcome.exitCode === 0 ? 'succeeded' : 'failed';
      this.trace.leave(
        status === 'succeeded'
          ? { code: 'ok' }
          : { code: 'error', message: `exit code ${outcome.exitCode}` },
      );
      await this.updateStep(step, { status, exit_code: outcome.exitCode, finished_at });
      return outcome.exitCode === 0;
    }
    if (outcome.kind === 'timed_out') {
      this.system(`Step exceeded its ${duration(spec.limits.step_timeout_ms)} time limit`, step.id);
      await this.updateStep(step, { status: 'failed', finished_at });
      this.stop({ kind: 'timed_out', reason: `step "${step.name}" exceeded its time limit` });
      return false;
    }
    const canceled = this.stopped?.kind === 'canceled';
    await this.updateStep(step, { status: canceled ? 'canceled' : 'failed', finished_at });
    return false;
  }

  private async skip(steps: Step[]): Promise<void> {
    for (const step of steps) await this.updateStep(step, { status: 'skipped' });
  }

  /** Step changes are reported unless the job is being handed back or is lost already. */
  private async updateStep(step: Step, change: Partial<Step>): Promise<void> {
    Object.assign(step, change);
    const stop = this.stopped?.kind;
    if (stop === 'released' || stop === 'lost') return;
    await this.shipper.flush();
    await this.api.steps({ steps: [step] });
  }

  private system(text: string, stepId?: string): void {
    const line: LogLine = {
      stream: 'system',
      text: this.mask(text).slice(0, 64 * 1024),
      ts: Date.now(),
    };
    if (stepId) line.step_id = stepId;
    this.shipper.push(line);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
