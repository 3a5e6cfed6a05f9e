import { type GitEvent, repoKey } from '../../core/webhooks/events';
import type { Project } from '../../db/schema';
import { type BuildRequest, targetFor } from '../builds/create';
import { type ClosedRef, closedRefReason } from '../deployments/retire';

/** What a verified delivery leads to, and how it is recorded in webhook_deliveries. */
export type DeliveryPlan =
  | { outcome: 'pong' }
  | { outcome: 'queued'; build: BuildRequest }
  // Nothing to build: a deleted branch or a closed pull request, whose previews retire.
  | { outcome: 'retire'; ref: ClosedRef; note: string }
  | { outcome: 'ignored'; reason: string };

function retire(ref: ClosedRef): DeliveryPlan {
  return { outcome: 'retire', ref, note: closedRefReason(ref) };
}

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
          committedAt: event.committedAt ? new Date(event.committedAt) : null,
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
      return retire({ branch: event.branch });
    case 'pull_request':
      if (event.action === 'closed') {
        return retire({ pullRequest: event.number, merged: event.merged });
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
