/**
 * A production deployment as the DORA metrics read it: Sparki's own records (the deployment, the
 * first time each state was reached in `deployment_transitions`, and its build's commit). Times
 * are epoch milliseconds.
 */
export interface DeploymentRecord {
  id: string;
  projectId: string;
  environmentId: string;
  buildId: string;
  commitSha: string | null;
  commitMessage: string | null;
  branch: string | null;
  /** The commit's timestamp (webhook payload or the runner's checkout); null when unknown. */
  committedAt: number | null;
  status: string;
  verifyingAt: number | null;
  liveAt: number | null;
  rolledBackAt: number | null;
  failedAt: number | null;
}

const REVERT = /^revert\b/i;
const HOTFIX = /\bhot[-_ ]?fix/i;
const HOTFIX_BRANCH = /(^|\/)hot[-_]?fix([/_-]|$)/i;

/**
 * A change made on purpose to fix production: its commit's first line starts with `Revert`
 * (git revert's own wording) or says hotfix, or it was built from a `hotfix/…` branch.
 */
export function isFixChange(record: Pick<DeploymentRecord, 'commitMessage' | 'branch'>): boolean {
  const subject = record.commitMessage?.split('\n', 1)[0]?.trim() ?? '';
  return (
    REVERT.test(subject) ||
    HOTFIX.test(subject) ||
    (record.branch !== null && HOTFIX_BRANCH.test(record.branch))
  );
}

/**
 * A deployment counts once Sparki put it in front of production: it reached `verifying` (checked
 * against production, with traffic moving to it) or went `live`. Ones that failed validation or
 * their upload, or were canceled, never touched production.
 */
export function reachedProduction(record: DeploymentRecord): boolean {
  return record.verifyingAt !== null || record.liveAt !== null;
}

/** When it reached production: the time it went live, or when its verification began. */
export function deployedAt(record: DeploymentRecord): number {
  return record.liveAt ?? record.verifyingAt ?? Number.NaN;
}
