import type { DeploymentState } from '../../core/deploy/state-machine';

/** A deployment that cannot go on, for a reason its owner can act on (kept as its error). */
export class DeployFailure extends Error {}

/**
 * Someone else moved the engine's deployment on meanwhile (a manual rollback, the stale-deployment
 * sweep): the engine stops where it is and leaves their change be.
 */
export class StateChanged extends Error {
  constructor(
    readonly deploymentId: string,
    readonly expected: DeploymentState,
    readonly actual: DeploymentState | null,
  ) {
    super(`The deployment is ${actual ?? 'gone'}, no longer ${expected}`);
  }
}
