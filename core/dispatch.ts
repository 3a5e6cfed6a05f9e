import type { WorkspacePlan } from './rate-limits';

/**
 * The RunnerHub's dispatch policy, free of sockets and storage: which waiting jobs may start
 * (`admissibleJobs`) and which connected runner takes each (`pickRunner`).
 */

/** Builds a workspace may run at once, by plan; the rest wait in the RunnerHub's queue. */
export const WORKSPACE_CONCURRENT_BUILDS = {
  free: 1,
  pro: 3,
  team: 10,
} as const satisfies Record<WorkspacePlan, number>;

export interface AdmissionJob {
  buildId: string;
  projectId: string;
}

export interface AdmissionState<J extends AdmissionJob> {
  /** Waiting jobs, oldest first: the order they are admitted in. */
  queue: readonly J[];
  /** Project id of every build of the workspace that holds a runner now. */
  running: readonly string[];
  workspaceLimit: number;
  /** A project's own cap (`max_concurrent_builds`); absent means only the workspace limit. */
  projectLimit(projectId: string): number | undefined;
}

/**
 * The waiting jobs that may start now, in queue order. A project at its own cap does not hold
 * up other projects' jobs behind it, but its own jobs keep their order: the first one waiting
 * is always the first one admitted once a slot frees.
 */
export function admissibleJobs<J extends AdmissionJob>(state: AdmissionState<J>): J[] {
  const perProject = new Map<string, number>();
  for (const projectId of state.running) {
    perProject.set(projectId, (perProject.get(projectId) ?? 0) + 1);
  }
  let total = state.running.length;
  const admitted: J[] = [];
  for (const job of state.queue) {
    if (total >= state.workspaceLimit) break;
    const current = perProject.get(job.projectId) ?? 0;
    const cap = state.projectLimit(job.projectId);
    if (cap !== undefined && current >= cap) continue;
    perProject.set(job.projectId, current + 1);
    total++;
    admitted.push(job);
  }
  return admitted;
}

export interface RunnerSlots {
  runnerId: string;
  labels: readonly string[];
  /** Jobs it runs at once. */
  capacity: number;
}

/**
 * The runner that takes a job: one with every label the job asks for and a free slot, the least
 * loaded for its capacity first; among equals, the first in `runners`. `load` counts the
 * jobs each runner holds now, so the caller adds the job once its grant succeeded.
 */
export function pickRunner<R extends RunnerSlots>(
  job: { labels: readonly string[] },
  runners: Iterable<R>,
  load: ReadonlyMap<string, number>,
): R | undefined {
  let best: R | undefined;
  let bestShare = Number.POSITIVE_INFINITY;
  for (const runner of runners) {
    const held = load.get(runner.runnerId) ?? 0;
    if (held >= runner.capacity) continue;
    if (!job.labels.every((label) => runner.labels.includes(label))) continue;
    const share = held / runner.capacity;
    if (share < bestShare) {
      best = runner;
      bestShare = share;
    }
  }
  return best;
}
