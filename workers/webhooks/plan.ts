import { type GitEvent, repoKey } from '../../core/webhooks/events';
import type { Project } from '../../db/schema';
import { type BuildRequest, targetFor } from '../builds/service';

/** What a verified delivery leads to, and how it is recorded in webhook_deliveries. */
export type DeliveryPlan =
  | { outcome: 'pong' }
  | { outcome: 'queued'; build: BuildRequest }
  // Handled, nothing to build now: branch deletions and closed pull requests (previews retire later).
  | { outcome: 'recorded'; note: string }
  | { outcome: 'ignored'; reason: string };

export function planDelivery(
  event: GitEvent,
  project: Pick<Project, 'id' | 'repoUrl' | 'productionBranch'>,
): DeliveryPlan {
  if (event.kind === 'ping') return { outcome: 'pong' };
  if (event.kind === 'ignored') return { outcome: 'ignored', reason: event.reason };
  if (!project.repoUrl) return { outcome: 'ignored', reason: 'the project has no repository URL' };
  const projectRepo = repoKey(project.repoUrl);
  if (!event.repo.urls.some((url) => repoKey(url) === projectRepo)) {
    return { outcome: 'ignored', reason: 'the repository is not the project’s repository' };
  }
  const projectId = project.id;
  switch (event.kind) {
    case 'push':
      return {
        outcome: 'queued',
        build: {
          projectId,
          commitSha: event.sha,
          branch: event.branch,
          trigger: 'push',
          target: targetFor(project, event.branch),
          commitMessage: event.message,
        },
      };
    case 'tag':
      return {
        outcome: 'queued',
        build: {
          projectId,
          commitSha: event.sha,
          branch: null,
          tag: event.tag,
          trigger: 'tag',
          target: 'preview',
        },
      };
    case 'branch_deleted':
      return { outcome: 'recorded', note: `branch ${event.branch} deleted` };
    case 'pull_request':
      if (event.action === 'closed') {
        return {
          outcome: 'recorded',
          note: `pull request #${event.number} ${event.merged ? 'merged' : 'closed'}`,
        };
      }
      return {
        outcome: 'queued',
        build: {
          projectId,
          commitSha: event.sha,
          branch: event.branch,
          pullRequest: event.number,
          trigger: 'pull_request',
          target: 'preview',
        },
      };
  }
}
