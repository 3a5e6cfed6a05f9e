import { describe, expect, it } from 'vitest';
import { effectiveRole, roleAtLeast, scopeCeiling } from './roles';

describe('roles', () => {
  it('orders viewer < developer < admin < owner', () => {
    expect(roleAtLeast('owner', 'admin')).toBe(true);
    expect(roleAtLeast('admin', 'admin')).toBe(true);
    expect(roleAtLeast('developer', 'admin')).toBe(false);
    expect(roleAtLeast('viewer', 'developer')).toBe(false);
  });

  it('caps a token by its scope but never raises the member', () => {
    expect(effectiveRole('owner', 'read')).toBe('viewer');
    expect(effectiveRole('owner', 'write')).toBe('developer');
    expect(effectiveRole('owner', 'admin')).toBe('admin');
    expect(effectiveRole('viewer', 'admin')).toBe('viewer');
    expect(effectiveRole('owner')).toBe('owner');
  });

  it('names the role each token scope stands for', () => {
    expect(scopeCeiling('read')).toBe('viewer');
    expect(scopeCeiling('write')).toBe('developer');
    expect(scopeCeiling('admin')).toBe('admin');
  });
});
