import { type DeploymentRecord, deployedAt, isFixChange, reachedProduction } from './records';

/**
 * Why a deployment counts as failed: Sparki or a person rolled it back; it failed once in front of
 * production and was not rolled back; or the next deployment was a fix (a revert or a hotfix).
 */
export type FailureKind = 'rolled_back' | 'failed' | 'fixed';

export interface Failure {
  kind: FailureKind;
  /** The fix deployed right after it (kind `fixed`). */
  fixedBy: string | null;
  /** When production was healthy again; null while it is not. */
  recoveredAt: number | null;
  /** `rollback`: the rollback itself; `roll_forward`: the next deployment that went live and stayed. */
  recovery: 'rollback' | 'roll_forward' | null;
  recoveredBy: string | null;
}

/** Why a deployment was unplanned work: a fix change, or made while production was failed. */
export type ReworkReason = 'fix_change' | 'during_incident';

export interface Rework {
  reason: ReworkReason;
  /** The failed deployment whose incident it was made during (reason `during_incident`). */
  incident: string | null;
}

export interface ClassifiedDeployment {
  record: DeploymentRecord;
  deployedAt: number;
  /** Commit to live, only for the first time that commit went live in its environment. */
  leadTimeMs: number | null;
  failure: Failure | null;
  rework: Rework | null;
}

function byEnvironment(records: DeploymentRecord[]): DeploymentRecord[][] {
  const groups = new Map<string, DeploymentRecord[]>();
  for (const record of records.filter(reachedProduction)) {
    const group = groups.get(record.environmentId) ?? [];
    group.push(record);
    groups.set(record.environmentId, group);
  }
  for (const group of groups.values()) {
    group.sort((a, b) => deployedAt(a) - deployedAt(b) || a.id.localeCompare(b.id));
  }
  return [...groups.values()];
}

function failureOf(history: DeploymentRecord[], index: number): Failure | null {
  const record = history[index]!;
  if (record.rolledBackAt !== null) {
    return {
      kind: 'rolled_back',
      fixedBy: null,
      recoveredAt: record.rolledBackAt,
      recovery: 'rollback',
      recoveredBy: null,
    };
  }
  const next = history[index + 1];
  const fixedBy = record.liveAt !== null && next && isFixChange(next) ? next.id : null;
  if (record.status !== 'failed' && !fixedBy) return null;
  // Rolled forward: production is healthy again once a later deployment is live and stays.
  const healthy = history
    .slice(index + 1)
    .find((later) => later.liveAt !== null && later.rolledBackAt === null);
  return {
    kind: fixedBy ? 'fixed' : 'failed',
    fixedBy,
    recoveredAt: healthy?.liveAt ?? null,
    recovery: healthy ? 'roll_forward' : null,
    recoveredBy: healthy?.id ?? null,
  };
}

function classifyEnvironment(history: DeploymentRecord[]): ClassifiedDeployment[] {
  const deliveredCommits = new Set<string>();
  const classified: ClassifiedDeployment[] = [];
  history.forEach((record, index) => {
    const at = deployedAt(record);
    let leadTimeMs: number | null = null;
    if (record.liveAt !== null && record.commitSha !== null) {
      if (!deliveredCommits.has(record.commitSha) && record.committedAt !== null) {
        // A commit clock ahead of the platform's cannot make a lead time negative.
        leadTimeMs = Math.max(0, record.liveAt - record.committedAt);
      }
      deliveredCommits.add(record.commitSha);
    }
    const incident = classified.find(
      (earlier) =>
        earlier.failure &&
        earlier.deployedAt < at &&
        (earlier.failure.recoveredAt === null || at <= earlier.failure.recoveredAt),
    );
    const rework: Rework | null = isFixChange(record)
      ? { reason: 'fix_change', incident: null }
      : incident
        ? { reason: 'during_incident', incident: incident.record.id }
        : null;
    classified.push({
      record,
      deployedAt: at,
      leadTimeMs,
      failure: failureOf(history, index),
      rework,
    });
  });
  return classified;
}

/**
 * Every production deployment that reached production, with what DORA asks of it. Needs the
 * environment's whole history (a commit delivered before, the deployment after a failure), so
 * the caller passes all of it, not only the window's.
 */
export function classifyDeployments(records: DeploymentRecord[]): ClassifiedDeployment[] {
  return byEnvironment(records)
    .flatMap(classifyEnvironment)
    .sort((a, b) => a.deployedAt - b.deployedAt || a.record.id.localeCompare(b.record.id));
}
