import { planBuild } from '../domain/builds/plan';
import { notifyBuildFailure } from '../domain/notifications/sources';
import { reportBuildStatus } from '../domain/reporting/build-status';
import type { Fetch } from '../domain/reporting/commit-status';
import type { BuildsMessage } from '../platform/queues';
import type { TaskContext } from '../platform/services';

/** How the consumer reaches git providers; tests pass their own fetch. */
export interface BuildsConsumerOptions {
  fetch?: Fetch;
}

/**
 * The `sparki-builds` consumer. `build.requested` plans the build (`planBuild`);
 * `build.status` notifies a failure (`build.failed`) and reports the build's current status to its
 * repository (never fails on the provider's account).
 */
export async function handleBuildsMessage(
  message: BuildsMessage,
  context: TaskContext,
  options: BuildsConsumerOptions = {},
): Promise<void> {
  const { env, services, logger } = context;
  const db = services.db();
  if (message.type === 'build.status') {
    await notifyBuildFailure(context, message.buildId);
    await reportBuildStatus(
      {
        db,
        encryptionKey: services.config.ENCRYPTION_KEY,
        fetch: options.fetch ?? ((request) => fetch(request)),
        logger,
        publicUrl: services.config.PUBLIC_URL,
      },
      message.buildId,
    );
    return;
  }
  await planBuild(
    env,
    { db, config: services.config, logger },
    message.buildId,
    message.traceparent,
  );
}
