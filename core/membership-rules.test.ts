import { describe, expect, it } from 'vitest';
import { checkInvite, checkLeave, checkRemoval, checkRoleChange } from './membership-rules';

describe('membership rules', () => {
  it('lets admins manage non-owner roles and refuses anyone below admin', () => {
    expect(checkRoleChange('admin', 'viewer', 'developer', 1)).toBeNull();
    expect(checkRoleChange('admin', 'developer', 'admin', 1)).toBeNull();
    expect(checkRoleChange('developer', 'viewer', 'developer', 1)?.status).toBe(403);
  });

  it('keeps ownership in owners’ hands', () => {
    expect(checkRoleChange('admin', 'viewer', 'owner', 1)?.status).toBe(403);
    expect(checkRoleChange('admin', 'owner', 'admin', 2)?.status).toBe(403);
    expect(checkRoleChange('owner', 'admin', 'owner', 1)).toBeNull();
    expect(checkRoleChange('owner', 'owner', 'admin', 2)).toBeNull();
  });

  it('never demotes, removes or lets leave the last owner', () => {
    expect(checkRoleChange('owner', 'owner', 'admin', 1)?.status).toBe(409);
    expect(checkRemoval('owner', 'owner', 1)?.status).toBe(409);
    expect(checkLeave('owner', 1)?.status).toBe(409);
    expect(checkLeave('owner', 2)).toBeNull();
    expect(checkLeave('viewer', 1)).toBeNull();
  });

  it('guards removals by role', () => {
    expect(checkRemoval('admin', 'developer', 1)).toBeNull();
    expect(checkRemoval('admin', 'owner', 2)?.status).toBe(403);
    expect(checkRemoval('viewer', 'viewer', 1)?.status).toBe(403);
    expect(checkRemoval('owner', 'owner', 2)).toBeNull();
  });

  it('invites up to admin, never as owner', () => {
    expect(checkInvite('admin', 'admin')).toBeNull();
    expect(checkInvite('owner', 'owner')?.status).toBe(403);
    expect(checkInvite('developer', 'viewer')?.status).toBe(403);
  });
});
