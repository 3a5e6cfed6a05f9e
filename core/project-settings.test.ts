import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BUILD_TIMEOUT_MS,
  DEFAULT_STEP_TIMEOUT_MS,
  EnvVarNameSchema,
  EnvVarValueSchema,
  MAX_ENV_VAR_VALUE_BYTES,
  mergeProjectSettings,
  ProjectSettingsPatchSchema,
  ProjectSettingsSchema,
  resolveProjectSettings,
} from './project-settings';

describe('project settings', () => {
  it('defaults to superseding queued builds, 30/15 minute limits and no project cap', () => {
    expect(resolveProjectSettings({})).toEqual({
      overrides: {},
      build_timeout_ms: DEFAULT_BUILD_TIMEOUT_MS,
      step_timeout_ms: DEFAULT_STEP_TIMEOUT_MS,
      cancel_superseded: true,
      max_concurrent_builds: null,
      poll_interval_seconds: null,
    });
  });

  it('caps the step limit at the build limit', () => {
    const effective = resolveProjectSettings({ build_timeout_ms: 120_000 });
    expect(effective.step_timeout_ms).toBe(120_000);
  });

  it('takes detection overrides in the sparki.json shape and refuses unknown fields', () => {
    const settings = { overrides: { buildCommand: 'make site', outputDirectory: 'public' } };
    expect(ProjectSettingsSchema.parse(settings)).toEqual(settings);
    expect(ProjectSettingsSchema.safeParse({ overrides: { buildCmd: 'x' } }).success).toBe(false);
    expect(ProjectSettingsSchema.safeParse({ colour: 'red' }).success).toBe(false);
    expect(
      ProjectSettingsSchema.safeParse({ overrides: { outputDirectory: '../x' } }).success,
    ).toBe(false);
    expect(ProjectSettingsSchema.safeParse({ max_concurrent_builds: 0 }).success).toBe(false);
    expect(ProjectSettingsSchema.safeParse({ build_timeout_ms: 1_000 }).success).toBe(false);
  });

  it('merges a patch: given fields replace, null restores the default, absent ones stay', () => {
    const stored = {
      overrides: { buildCommand: 'make' },
      cancel_superseded: false,
      max_concurrent_builds: 2,
    };
    const patch = ProjectSettingsPatchSchema.parse({
      overrides: { installCommand: 'npm ci' },
      max_concurrent_builds: null,
    });
    expect(mergeProjectSettings(stored, patch)).toEqual({
      overrides: { installCommand: 'npm ci' },
      cancel_superseded: false,
    });
  });
});

describe('environment variable rules', () => {
  it('accepts POSIX names only', () => {
    for (const name of ['API_KEY', '_x', 'a1'])
      expect(EnvVarNameSchema.safeParse(name).success).toBe(true);
    for (const name of ['1X', 'A-B', 'A B', '', 'É', 'A=B'])
      expect(EnvVarNameSchema.safeParse(name).success, name).toBe(false);
  });

  it('caps values by bytes, not characters, and refuses NUL', () => {
    expect(EnvVarValueSchema.safeParse('x'.repeat(MAX_ENV_VAR_VALUE_BYTES)).success).toBe(true);
    expect(EnvVarValueSchema.safeParse('é'.repeat(MAX_ENV_VAR_VALUE_BYTES / 2 + 1)).success).toBe(
      false,
    );
    expect(EnvVarValueSchema.safeParse('a\0b').success).toBe(false);
  });
});
