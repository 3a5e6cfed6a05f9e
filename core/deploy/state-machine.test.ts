import { describe, expect, it } from 'vitest';
import {
  canTransition,
  IllegalTransitionError,
  RETIRABLE_STATES,
  TERMINAL_STATES,
  transition,
} from './state-machine';

describe('deployment state machine', () => {
  it('walks the happy path, recording every step with its time', () => {
    let history = transition([], 'queued', 'validating', new Date('2026-11-23T10:00:00Z'));
    history = transition(history, 'validating', 'deploying', new Date('2026-11-23T10:00:01Z'));
    history = transition(history, 'deploying', 'verifying', new Date('2026-11-23T10:00:05Z'));
    history = transition(history, 'verifying', 'live', new Date('2026-11-23T10:00:09Z'));
    expect(history.map((t) => `${t.from}>${t.to}`)).toEqual([
      'queued>validating',
      'validating>deploying',
      'deploying>verifying',
      'verifying>live',
    ]);
    expect(history[3]?.at).toBe('2026-11-23T10:00:09.000Z');
  });

  it('fails and rolls back, with the reason kept', () => {
    const failed = transition([], 'verifying', 'failed', new Date(), 'health check: 500 from /');
    expect(failed[0]?.reason).toBe('health check: 500 from /');
    expect(canTransition('failed', 'rolled_back')).toBe(true);
  });

  it('refuses illegal moves', () => {
    expect(() => transition([], 'queued', 'live', new Date())).toThrow(IllegalTransitionError);
    expect(canTransition('rolled_back', 'live')).toBe(false);
    expect(canTransition('verifying', 'canceled')).toBe(false);
  });

  it('retires previews that are waiting or done deploying, never one mid-deploy, and for good', () => {
    expect([...RETIRABLE_STATES].sort()).toEqual(['failed', 'live', 'queued', 'rolled_back']);
    for (const active of ['validating', 'deploying', 'verifying'] as const) {
      expect(canTransition(active, 'retired')).toBe(false);
    }
    expect(canTransition('canceled', 'retired')).toBe(false);
    expect(TERMINAL_STATES).toContain('retired');
    expect(() => transition([], 'retired', 'live', new Date())).toThrow(IllegalTransitionError);
    const history = transition([], 'live', 'retired', new Date(), 'branch feature/x deleted');
    expect(history[0]).toMatchObject({
      from: 'live',
      to: 'retired',
      reason: 'branch feature/x deleted',
    });
  });
});
