import { describe, expect, it } from 'vitest';
import { DeployConfigSchema, missingRequiredEnv } from './config';

describe('deploy config', () => {
  it('fills defaults, including a default health check', () => {
    const config = DeployConfigSchema.parse({});
    expect(config.health_check).toMatchObject({ path: '/', expected_status: 200, retries: 2 });
    expect(config.canary_steps).toEqual([10, 50, 100]);
    expect(config.canary_interval_seconds).toBe(60);
  });

  it('names each missing required variable', () => {
    const config = DeployConfigSchema.parse({ required_env: ['API_URL', 'STRIPE_KEY'] });
    expect(missingRequiredEnv(config, ['API_URL'])).toEqual([
      'required environment variable STRIPE_KEY is not set',
    ]);
  });

  it('rejects bad settings', () => {
    expect(DeployConfigSchema.safeParse({ canary_steps: [] }).success).toBe(false);
    expect(DeployConfigSchema.safeParse({ canary_interval_seconds: 601 }).success).toBe(false);
    expect(DeployConfigSchema.safeParse({ required_env: ['1BAD'] }).success).toBe(false);
  });
});
