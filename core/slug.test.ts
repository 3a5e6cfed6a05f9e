import { describe, expect, it } from 'vitest';
import { PROJECT_SLUG_MAX, projectSlug, WORKSPACE_SLUG_MAX, workspaceSlug } from './slug';

describe('projectSlug', () => {
  it('lower-cases, joins the rest with single dashes and trims them', () => {
    expect(projectSlug('My  Site!')).toBe('my-site');
    expect(projectSlug('--Über__app--')).toBe('ber-app');
  });

  it('is empty without a letter or digit, and never longer than the API takes', () => {
    expect(projectSlug('!!!')).toBe('');
    expect(projectSlug(`${'a'.repeat(59)}-b`)).toBe('a'.repeat(59));
    expect(projectSlug('a'.repeat(70))).toHaveLength(PROJECT_SLUG_MAX);
  });
});

describe('workspaceSlug', () => {
  it('stops at the 40 characters a workspace slug may have, without a trailing dash', () => {
    expect(workspaceSlug('Acme Corp')).toBe('acme-corp');
    expect(workspaceSlug('a'.repeat(50))).toHaveLength(WORKSPACE_SLUG_MAX);
    expect(workspaceSlug(`${'a'.repeat(39)} team`)).toBe('a'.repeat(39));
  });
});
