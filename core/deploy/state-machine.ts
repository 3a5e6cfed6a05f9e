export const DEPLOYMENT_STATES = [
  'queued',
  'validating',
  'deploying',
  'verifying',
  'live',
  'failed',
  'rolled_back',
  'canceled',
  // A preview whose branch was deleted or whose pull request was closed: no longer served.
  'retired',
] as const;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];

const NEXT: Record<DeploymentState, readonly DeploymentState[]> = {
  queued: ['validating', 'canceled', 'retired'],
  validating: ['deploying', 'failed', 'canceled'],
  deploying: ['verifying', 'failed', 'canceled'],
  // Rolled back by hand while it is verified (e.g. a canary serving a share of production).
  verifying: ['live', 'failed', 'rolled_back'],
  // A live deployment is rolled back when a later one is undone onto it failing, or by hand.
  live: ['rolled_back', 'retired'],
  failed: ['rolled_back', 'retired'],
  // A manual rollback may go back to a deployment that served before and was rolled back since;
  // the API allows it only for one that was live once, never for one that failed its checks.
  rolled_back: ['live', 'retired'],
  canceled: [],
  retired: [],
};

/** A deployment in one of these holds its environment's turn: the engine is (or will be) on it. */
export const ACTIVE_STATES: readonly DeploymentState[] = ['validating', 'deploying', 'verifying'];

export const TERMINAL_STATES: readonly DeploymentState[] = [
  'failed',
  'rolled_back',
  'canceled',
  'retired',
];

/**
 * States a preview leaves for `retired` when its branch or pull request goes away. Deployments
 * still being deployed are not among them: the engine retires those once it has finished.
 */
export const RETIRABLE_STATES = (Object.keys(NEXT) as DeploymentState[]).filter((state) =>
  NEXT[state].includes('retired'),
);

export function canTransition(from: DeploymentState, to: DeploymentState): boolean {
  return NEXT[from].includes(to);
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: DeploymentState,
    readonly to: DeploymentState,
  ) {
    super(`A deployment cannot go from ${from} to ${to}`);
  }
}
