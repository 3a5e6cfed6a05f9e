import { z } from 'zod';

/**
 * The one place that knows how each Durable Object is addressed: every caller gets its stub
 * here, typed by the class wrangler binds (worker-configuration.d.ts).
 */

/** The session of one build; `BuildSession.finish` relies on this name to find the build id. */
export function buildSession(env: Env, buildId: string) {
  return env.BUILD_SESSION.get(env.BUILD_SESSION.idFromName(`build:${buildId}`));
}

/** One RunnerHub per workspace: its runners, job queue and leases. */
export function runnerHub(env: Env, workspaceId: string) {
  return env.RUNNER_HUB.get(env.RUNNER_HUB.idFromName(`workspace:${workspaceId}`));
}

/** Who is connecting, as the Worker's connect route authenticated it. */
export const RunnerIdentitySchema = z.object({
  runnerId: z.uuid(),
  name: z.string(),
  labels: z.array(z.string()),
  capacity: z.number().int().positive(),
  // The runner's workspace: the hub's own, for the repositories it hands out to poll.
  workspaceId: z.uuid().optional(),
});
export type RunnerIdentity = z.infer<typeof RunnerIdentitySchema>;

/** Set by the connect route only; the hub is not reachable from outside the Worker. */
export const RUNNER_IDENTITY_HEADER = 'X-Sparki-Runner-Identity';
