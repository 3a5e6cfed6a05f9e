import { join } from 'node:path';
import type { HubMessage } from '../../core/runner-protocol';
import { type BackoffOptions, sleep } from './backoff';
import { CacheStore } from './cache';
import type { RunnerConfig } from './config';
import { RunnerConnection } from './connection';
import { Job, type JobContext, type JobOffer } from './job';
import { RepoWatcher } from './watcher';

export interface AgentOptions {
  config: RunnerConfig;
  workDir: string;
  hostEnv: NodeJS.ProcessEnv;
  /** Host variables passed on to builds: `passEnvNames` of the configuration. */
  passEnv: readonly string[];
  /** The dependency caches' cap, in bytes, under `<workDir>/cache`; 0 keeps no caches. */
  cacheMaxBytes: number;
  log(message: string): void;
  backoff?: BackoffOptions;
}

/** Runs up to `capacity` jobs at once for as long as the connection to the hub lasts. */
export class Agent {
  readonly connection: RunnerConnection;
  private readonly jobs = new Map<string, Job>();
  private draining = false;
  private readonly jobContext: JobContext;
  /** The repositories the hub asked this runner to poll. */
  readonly watcher: RepoWatcher;

  constructor(private readonly options: AgentOptions) {
    const { config, workDir, hostEnv, passEnv, cacheMaxBytes, log } = options;
    const caches =
      cacheMaxBytes > 0 ? new CacheStore(join(workDir, 'cache'), cacheMaxBytes, log) : undefined;
    this.jobContext = { url: config.url, workDir, hostEnv, passEnv, caches, log };
    this.connection = new RunnerConnection({
      url: options.config.url,
      runnerToken: options.config.runner_token,
      running: () => [...this.jobs.keys()],
      onMessage: (message) => this.receive(message),
      log: options.log,
      backoff: options.backoff,
    });
    this.watcher = new RepoWatcher({
      send: (message) => this.connection.send(message),
      log: options.log,
    });
  }

  start(): void {
    this.connection.start();
  }

  /**
   * Stops taking jobs, lets the running ones finish until `grace` ends (a second signal ends
   * it early), then stops the rest and hands them back to the hub to be offered elsewhere.
   */
  async drain(grace: { ms: number; signal?: AbortSignal }): Promise<void> {
    this.draining = true;
    this.watcher.stop();
    if (this.jobs.size > 0) {
      this.options.log(`draining: waiting up to ${grace.ms} ms for ${this.jobs.size} build(s)`);
      const finished = Promise.all([...this.jobs.values()].map((job) => job.done));
      await Promise.race([finished, sleep(grace.ms, grace.signal)]);
    }
    await Promise.all(
      [...this.jobs.values()].map(async (job) => {
        const reason = 'the runner is shutting down';
        if ((await job.release(reason)) !== 'released') return;
        this.connection.send({
          type: 'release',
          build_id: job.buildId,
          attempt: job.attempt,
          reason,
        });
        this.options.log(`build ${job.buildId}: handed back`);
      }),
    );
    await this.connection.close();
  }

  /** Stops every job without reporting: the token was refused, nothing can be reported. */
  async abandon(): Promise<void> {
    this.draining = true;
    this.watcher.stop();
    await Promise.all([...this.jobs.values()].map((job) => job.release('runner token refused')));
    await this.connection.close();
  }

  private receive(message: HubMessage): void {
    if (message.type === 'job') this.accept(message);
    else if (message.type === 'watch') {
      if (!this.draining) this.watcher.watch(message.repos);
    } else if (message.type === 'poll') void this.watcher.poll(message.project_id);
    else if (message.type === 'heads_recorded') {
      this.watcher.recorded(message.project_id);
      if (message.queued > 0 || message.deleted > 0) {
        this.options.log(
          `project ${message.project_id}: new heads recorded (${message.queued} build(s) queued, ${message.deleted} branch(es) deleted)`,
        );
      }
    } else if (message.type === 'cancel') {
      const job = this.jobs.get(message.build_id);
      if (job) {
        this.options.log(`build ${message.build_id}: canceled (${message.reason})`);
        job.cancel(message.reason);
      }
    }
  }

  private accept(offer: JobOffer): void {
    // A repeated offer of a build already running here (after a reconnect) changes nothing.
    if (this.jobs.has(offer.build_id)) return;
    if (this.draining || this.jobs.size >= this.options.config.capacity) {
      this.connection.send({
        type: 'release',
        build_id: offer.build_id,
        attempt: offer.attempt,
        reason: this.draining ? 'the runner is shutting down' : 'the runner is at capacity',
      });
      return;
    }
    this.options.log(`build ${offer.build_id}: attempt ${offer.attempt} started`);
    const job = new Job(offer, this.jobContext);
    this.jobs.set(offer.build_id, job);
    void job.done.then((end) => {
      this.jobs.delete(offer.build_id);
      this.options.log(`build ${offer.build_id}: ${end}`);
    });
  }
}
