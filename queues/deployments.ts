import { drainEnvironment } from '../domain/deployments/queue';
import { requestAutoDeployment } from '../domain/deployments/request';
import type { DeploymentsMessage } from '../platform/queues';
import type { TaskContext } from '../platform/services';

/**
 * `deployment.requested`: runs the environment's queue. `build.succeeded`: asks for the
 * deployment the build's environment makes on its own, then runs that environment's queue.
 */
export async function handleDeploymentsMessage(message: DeploymentsMessage, context: TaskContext) {
  const environmentId =
    message.type === 'deployment.requested'
      ? message.environment_id
      : await requestAutoDeployment(context, message);
  if (environmentId) await drainEnvironment(context, environmentId);
}
