import type { BranchHead } from '../core/repo-polling';
import { assignedRunner } from '../core/repo-polling';
import type { HubMessage } from '../core/runner-protocol';
import type { Database } from '../db/client';
import { writeAudit } from '../domain/audit';
import { announceBuilds } from '../domain/builds/create';
import { polledProjects, recordHeads, workspaceProject } from '../domain/polling/heads';
import type { RunnerIdentity } from '../platform/durable-objects';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import { type Attachment, attachmentOf } from './runner-hub-sockets';

export interface WatchDeps {
  env: Env;
  logger: Logger;
  metrics: Metrics;
  withDb<T>(task: (db: Database) => Promise<T>): Promise<T>;
  send(ws: WebSocket, message: HubMessage): void;
  /** Sends to every connection of the runner. */
  tell(runnerId: string, message: HubMessage): void;
  readyRunners(): (RunnerIdentity & { ws: WebSocket })[];
}

/**
 * The hub's part in polling repositories the platform cannot reach: which runner watches which
 * project, asking it to poll now, and recording the heads it reports. The hub calls these one at
 * a time, as it does the lease lifecycle.
 */
export class RunnerHubWatches {
  constructor(private readonly deps: WatchDeps) {}

  /**
   * Sends every connected runner the polled repositories it watches: one runner per project
   * (`assignedRunner`), so a repository is never polled by two.
   */
  async send(workspaceId: string): Promise<void> {
    const runners = this.deps.readyRunners();
    if (runners.length === 0) return;
    let polled: Awaited<ReturnType<typeof polledProjects>>;
    try {
      polled = await this.deps.withDb((db) => polledProjects(db, workspaceId));
    } catch (error) {
      this.deps.logger.warn('watch_list_failed', { error });
      return;
    }
    const ids = runners.map((runner) => runner.runnerId);
    for (const runner of runners) {
      const attachment = attachmentOf(runner.ws);
      if (!attachment) continue;
      const repos = polled
        .filter((project) => assignedRunner(project.id, ids) === runner.runnerId)
        .map((project) => ({
          project_id: project.id,
          repo_url: project.repoUrl,
          interval_ms: project.intervalSeconds * 1000,
        }));
      const key = JSON.stringify(repos);
      // A runner with nothing to poll hears nothing, unless it polled something before.
      if (key === (attachment.watching || '[]')) continue;
      runner.ws.serializeAttachment({ ...attachment, watching: key } satisfies Attachment);
      this.deps.send(runner.ws, { type: 'watch', repos });
    }
  }

  /**
   * The runner that polls the project, told to poll it now; null when the project is not polled
   * or no runner is connected.
   */
  async pollNow(workspaceId: string, projectId: string): Promise<string | null> {
    const runners = this.deps.readyRunners();
    if (runners.length === 0) return null;
    const polled = await this.deps.withDb((db) => polledProjects(db, workspaceId));
    if (!polled.some((project) => project.id === projectId)) return null;
    const runnerId = assignedRunner(
      projectId,
      runners.map((runner) => runner.runnerId),
    );
    if (!runnerId) return null;
    this.deps.tell(runnerId, { type: 'poll', project_id: projectId });
    return runnerId;
  }

  /**
   * A runner's report of a polled repository's heads. Only the runner the project is assigned
   * to may report it, and only for a polled project of this workspace.
   */
  async heads(ws: WebSocket, attachment: Attachment, projectId: string, heads: BranchHead[]) {
    const { workspaceId } = attachment;
    const refuse = (message: string) => this.deps.send(ws, { type: 'error', message });
    if (!workspaceId) return refuse('This connection cannot report heads');
    const ids = this.deps.readyRunners().map((runner) => runner.runnerId);
    if (assignedRunner(projectId, ids) !== attachment.runnerId) {
      return refuse(`Project ${projectId} is not polled by this runner`);
    }
    try {
      const outcome = await this.deps.withDb(async (db) => {
        const polled = await polledProjects(db, workspaceId);
        const project = polled.some((entry) => entry.id === projectId)
          ? await workspaceProject(db, workspaceId, projectId)
          : undefined;
        if (!project) return undefined;
        const origin = {
          actorId: null,
          ip: null,
          userAgent: null,
          requestId: `runner:${attachment.runnerId}`,
        };
        const recorded = await recordHeads(db, project, heads, (tx, entry) =>
          writeAudit(tx, origin, entry),
        );
        await announceBuilds(this.deps.env, db, recorded.created, this.deps);
        return recorded;
      });
      if (!outcome) return refuse(`Project ${projectId} is not polled by this runner`);
      this.deps.logger.info('heads_recorded', {
        project_id: projectId,
        runner_id: attachment.runnerId,
        queued: outcome.created.length,
        deleted: outcome.deleted,
        baseline: outcome.baseline,
      });
      this.deps.send(ws, {
        type: 'heads_recorded',
        project_id: projectId,
        queued: outcome.created.length,
        deleted: outcome.deleted,
      });
    } catch (error) {
      this.deps.logger.error('heads_record_failed', { project_id: projectId, error });
      refuse('The heads could not be recorded; they are sent again after the next poll');
    }
  }
}
