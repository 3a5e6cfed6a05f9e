import { z } from 'zod';
import { sparkiConfigSchema } from './detect/config';
import { PollIntervalSchema } from './repo-polling';

const MINUTE_MS = 60_000;

export const DEFAULT_BUILD_TIMEOUT_MS = 30 * MINUTE_MS;
export const DEFAULT_STEP_TIMEOUT_MS = 15 * MINUTE_MS;
export const MIN_TIMEOUT_MS = MINUTE_MS;
export const MAX_BUILD_TIMEOUT_MS = 4 * 60 * MINUTE_MS;
export const MAX_PROJECT_CONCURRENT_BUILDS = 50;

/** Detection overrides: the build fields of sparki.json, which wins over them field by field. */
export const BuildOverridesSchema = sparkiConfigSchema.omit({ $schema: true });
export type BuildOverrides = z.infer<typeof BuildOverridesSchema>;

const timeout = z.number().int().min(MIN_TIMEOUT_MS).max(MAX_BUILD_TIMEOUT_MS);

/** What `projects.settings` holds: only the fields someone set; the rest take the defaults. */
export const ProjectSettingsSchema = z.strictObject({
  overrides: BuildOverridesSchema.optional(),
  build_timeout_ms: timeout.optional(),
  step_timeout_ms: timeout.optional(),
  cancel_superseded: z.boolean().optional(),
  max_concurrent_builds: z.number().int().min(1).max(MAX_PROJECT_CONCURRENT_BUILDS).optional(),
  // Seconds between polls of the repository's branch heads by a runner; 0: never.
  poll_interval_seconds: PollIntervalSchema.optional(),
});
export type ProjectSettings = z.infer<typeof ProjectSettingsSchema>;

/** A change: a field given replaces the stored one (`overrides` as a whole), null restores the default. */
export const ProjectSettingsPatchSchema = z.strictObject({
  overrides: BuildOverridesSchema.nullable().optional(),
  build_timeout_ms: timeout.nullable().optional(),
  step_timeout_ms: timeout.nullable().optional(),
  cancel_superseded: z.boolean().nullable().optional(),
  max_concurrent_builds: z
    .number()
    .int()
    .min(1)
    .max(MAX_PROJECT_CONCURRENT_BUILDS)
    .nullable()
    .optional(),
  poll_interval_seconds: PollIntervalSchema.nullable().optional(),
});
export type ProjectSettingsPatch = z.infer<typeof ProjectSettingsPatchSchema>;

export interface EffectiveProjectSettings {
  overrides: BuildOverrides;
  build_timeout_ms: number;
  step_timeout_ms: number;
  /** A newer build of a branch cancels that branch's builds still waiting for a runner. */
  cancel_superseded: boolean;
  /** Null: only the workspace's plan limit applies. */
  max_concurrent_builds: number | null;
  /**
   * Null: automatic (core/repo-polling.ts `pollInterval`: polled every 30 s when the repository
   * is local or on a private network and the project has no webhook provider, else not).
   */
  poll_interval_seconds: number | null;
}

export function mergeProjectSettings(
  stored: ProjectSettings,
  patch: ProjectSettingsPatch,
): ProjectSettings {
  const merged: Record<string, unknown> = { ...stored };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return ProjectSettingsSchema.parse(merged);
}

export function resolveProjectSettings(stored: unknown): EffectiveProjectSettings {
  const settings = ProjectSettingsSchema.parse(stored ?? {});
  const buildTimeout = settings.build_timeout_ms ?? DEFAULT_BUILD_TIMEOUT_MS;
  return {
    overrides: settings.overrides ?? {},
    build_timeout_ms: buildTimeout,
    // A step can never outlive its build, so a shorter build limit caps the step limit too.
    step_timeout_ms: Math.min(settings.step_timeout_ms ?? DEFAULT_STEP_TIMEOUT_MS, buildTimeout),
    cancel_superseded: settings.cancel_superseded ?? true,
    max_concurrent_builds: settings.max_concurrent_builds ?? null,
    poll_interval_seconds: settings.poll_interval_seconds ?? null,
  };
}

export const MAX_ENV_VARS = 200;
export const MAX_ENV_VAR_NAME_LENGTH = 256;
export const MAX_ENV_VAR_VALUE_BYTES = 32 * 1024;

/** POSIX portable environment variable names (letters, digits, underscore; no leading digit). */
export const EnvVarNameSchema = z
  .string()
  .max(MAX_ENV_VAR_NAME_LENGTH)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'letters, digits and underscores, not starting with a digit');

export const EnvVarValueSchema = z
  .string()
  .refine((value) => new TextEncoder().encode(value).length <= MAX_ENV_VAR_VALUE_BYTES, {
    message: `at most ${MAX_ENV_VAR_VALUE_BYTES} bytes`,
  })
  // A NUL byte cannot be passed to a process through its environment.
  .refine((value) => !value.includes('\0'), { message: 'must not contain a NUL character' });
