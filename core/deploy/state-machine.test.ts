import { describe, expect, it } from 'vitest';
import {
  ACTIVE_STATES,
  canTransition,
  IllegalTransitionError,
  RETIRABLE_STATES,
  TERMINAL_STATES,
} from './state-machine';

describe('deployment state machine', () => {
  it('walks the happy path, and fails and rolls back', () => {
    const path = ['queued', 'validating', 'deploying', 'verifying', 'live'] as const;
    for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1]!, path[i]!)).toBe(true);
    expect(canTransition('verifying', 'failed')).toBe(true);
    expect(canTransition('failed', 'rolled_back')).toBe(true);
    expect(ACTIVE_STATES).toEqual(['validating', 'deploying', 'verifying']);
  });

  it('refuses illegal moves, naming them', () => {
    expect(canTransition('queued', 'live')).toBe(false);
    expect(canTransition('verifying', 'canceled')).toBe(false);
    expect(canTransition('canceled', 'live')).toBe(false);
    expect(canTransition('failed', 'live')).toBe(false);
    expect(new IllegalTransitionError('queued', 'live').message).toBe(
      'A deployment cannot go from queued to live',
    );
  });

  it('lets a manual rollback end a deployment being verified and put a rolled-back one live', () => {
    expect(canTransition('verifying', 'rolled_back')).toBe(true);
    expect(canTransition('rolled_back', 'live')).toBe(true);
    // What has not reached production yet is canceled by a rollback, not rolled back.
    expect(canTransition('validating', 'rolled_back')).toBe(false);
    expect(canTransition('deploying', 'rolled_back')).toBe(false);
    expect(canTransition('validating', 'canceled')).toBe(true);
    expect(canTransition('deploying', 'canceled')).toBe(true);
  });

  it('retires previews that are waiting or done deploying, never one mid-deploy, and for good', () => {
    expect([...RETIRABLE_STATES].sort()).toEqual(['failed', 'live', 'queued', 'rolled_back']);
    for (const active of ACTIVE_STATES) expect(canTransition(active, 'retired')).toBe(false);
    expect(canTransition('canceled', 'retired')).toBe(false);
    expect(TERMINAL_STATES).toContain('retired');
    expect(canTransition('retired', 'live')).toBe(false);
    expect(canTransition('live', 'retired')).toBe(true);
  });
});
