import { describe, expect, it } from 'vitest';
import { DeployConfigSchema } from './config';
import {
  branchSlug,
  imageTemplateProblems,
  isImageReference,
  resolveImageTemplate,
} from './image-reference';

const SHA = '3f786850e387550fdab836ed7e6dc881de23001b';
const build = { commitSha: SHA, number: 42, branch: 'Feature/Checkout_v2' };

describe('image reference templates', () => {
  it('fills every placeholder from the build', () => {
    expect(resolveImageTemplate('registry.fly.io/shop:{commit_sha}', build)).toEqual({
      image: `registry.fly.io/shop:${SHA}`,
    });
    expect(
      resolveImageTemplate('ghcr.io/acme/shop:{branch}-{short_sha}-{build_number}', build),
    ).toEqual({ image: 'ghcr.io/acme/shop:feature-checkout-v2-3f78685-42' });
    expect(resolveImageTemplate('localhost:5000/shop-{branch}:{build_number}', build)).toEqual({
      image: 'localhost:5000/shop-feature-checkout-v2:42',
    });
  });

  it('makes branches safe for a reference, like GitLab’s ref slug', () => {
    expect(branchSlug('Feature/Checkout_v2')).toBe('feature-checkout-v2');
    expect(branchSlug('--release/1.2--')).toBe('release-1-2');
    expect(branchSlug('x'.repeat(80))).toHaveLength(63);
  });

  it('names an unknown placeholder and lists the known ones', () => {
    expect(imageTemplateProblems('registry.fly.io/shop:{sha}')).toEqual([
      'has an unknown placeholder {sha} (known: {commit_sha}, {short_sha}, {build_number}, {branch})',
    ]);
    expect(imageTemplateProblems('shop:{commit_sha}-{}')).toEqual([
      'has an unknown placeholder {} (known: {commit_sha}, {short_sha}, {build_number}, {branch})',
    ]);
  });

  it('names unbalanced braces with their position', () => {
    expect(imageTemplateProblems('shop:{commit_sha')).toEqual([
      'has a { without a matching } at position 6',
    ]);
    expect(imageTemplateProblems('shop:commit_sha}')).toEqual([
      'has a } without a matching { at position 16',
    ]);
    expect(imageTemplateProblems('shop:{commit_{sha}}')).toEqual([
      'has a { without a matching } at position 6',
    ]);
  });

  it('refuses a template that names no build, or is no image reference once filled', () => {
    expect(imageTemplateProblems('registry.fly.io/shop:latest')[0]).toMatch(
      /^names no build: add \{commit_sha\}, \{short_sha\} or \{build_number\}/,
    );
    expect(imageTemplateProblems('Registry.fly.io/Shop:{commit_sha}')).toEqual([
      'is not an image reference once filled in (Registry.fly.io/Shop:0000000000000000000000000000000000000000): expected [registry/]repository[:tag][@digest] with a lowercase repository',
    ]);
    expect(imageTemplateProblems('  ')).toEqual(['is empty']);
    expect(imageTemplateProblems('https://ghcr.io/acme/shop:{short_sha}')).toHaveLength(1);
  });

  it('says why a build cannot fill {branch}', () => {
    expect(resolveImageTemplate('shop:{branch}-{short_sha}', { ...build, branch: null })).toEqual({
      problem: 'the build has no branch to fill {branch} (a tag or manual build)',
    });
    expect(resolveImageTemplate('shop:{branch}-{short_sha}', { ...build, branch: '///' })).toEqual({
      problem: 'the branch /// leaves nothing for {branch} once made a slug',
    });
    expect(resolveImageTemplate('shop:{short_sha}', { ...build, commitSha: null })).toEqual({
      problem: 'the build has no commit to fill {commit_sha} or {short_sha}',
    });
    // A branch not used by the template does not matter.
    expect(resolveImageTemplate('shop:{short_sha}', { ...build, branch: null })).toEqual({
      image: 'shop:3f78685',
    });
  });

  it('accepts references the registries accept and nothing else', () => {
    for (const good of [
      'nginx',
      'docker.io/library/nginx:1.27',
      'registry.fly.io/my-app:deployment-01J',
      `ghcr.io/acme/shop@sha256:${'a'.repeat(64)}`,
      '[::1]:5000/shop:1',
    ]) {
      expect(isImageReference(good), good).toBe(true);
    }
    for (const bad of ['Shop:1', 'shop:', 'shop:-x', 'shop::1', '/shop', 'shop/', 'a b']) {
      expect(isImageReference(bad), bad).toBe(false);
    }
  });

  it('is an optional part of the environment’s deploy settings, checked on parse', () => {
    expect(DeployConfigSchema.parse({}).image).toBeUndefined();
    expect(DeployConfigSchema.parse({ image: 'shop:{commit_sha}' }).image).toBe(
      'shop:{commit_sha}',
    );
    const refused = DeployConfigSchema.safeParse({ image: 'shop:{sha}' });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]).toMatchObject({
      path: ['image'],
      message: expect.stringContaining('unknown placeholder {sha}'),
    });
  });
});
