import { describe, expect, it } from 'vitest';
import { PROJECT_SLUG_MAX, projectSlug } from './slug';

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
