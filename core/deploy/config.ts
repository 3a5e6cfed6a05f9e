import { z } from 'zod';
import { HealthCheckSchema } from './health';
import { ImageTemplateSchema } from './image-reference';

/** An environment's deploy settings (environments.deploy_config). */
export const DeployConfigSchema = z.object({
  health_check: HealthCheckSchema.prefault({}),
  // Serve /index.html for unknown paths (client-side routing).
  spa: z.boolean().default(false),
  // Variables that must be set before anything is deployed.
  required_env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).default([]),
  canary_steps: z.array(z.number().int().min(1).max(100)).min(1).default([10, 50, 100]),
  // How long each canary share serves, health checked at its end, before the next is taken.
  // At most 10 minutes: the cron fails deployments that go quiet for 15.
  canary_interval_seconds: z.number().int().min(0).max(600).default(60),
  // The image the build pushes, e.g. `registry.fly.io/shop:{commit_sha}` (image-based platforms).
  image: ImageTemplateSchema.optional(),
});
export type DeployConfig = z.infer<typeof DeployConfigSchema>;

/** Problems that stop a deployment before anything moves, each naming what to fix. */
export function missingRequiredEnv(config: DeployConfig, present: readonly string[]): string[] {
  return config.required_env
    .filter((name) => !present.includes(name))
    .map((name) => `required environment variable ${name} is not set`);
}
