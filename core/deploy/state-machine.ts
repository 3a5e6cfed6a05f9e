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
  verifying: ['live', 'failed'],
  // A live deployment is rolled back when a later one is undone onto it failing, or by hand.
  live: ['rolled_back', 'retired'],
  failed: ['rolled_back', 'retired'],
  rolled_back: ['retired'],
  canceled: [],
  retired: [],
};

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

export interface Transition {
  from: DeploymentState;
  to: DeploymentState;
  at: string;
  reason?: string;
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: DeploymentState,
    readonly to: DeploymentState,
  ) {
    super(`A deployment cannot go from ${from} to ${to}`);
  }
}

/** The next history entry, or an error naming the illegal move; history is append-only. */
export function transition(
  history: readonly Transition[],
  current: DeploymentState,
  to: DeploymentState,
  at: Date,
  reason?: string,
): Transition[] {
  if (!canTransition(current, to)) throw new IllegalTransitionError(current, to);
  return [...history, { from: current, to, at: at.toISOString(), ...(reason ? { reason } : {}) }];
}
