import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSystemTree } from './fs-tree';

describe('fileSystemTree', () => {
  let outside: string;
  let checkout: string;

  beforeAll(async () => {
    outside = await mkdtemp(join(tmpdir(), 'sparki-outside-'));
    checkout = await mkdtemp(join(tmpdir(), 'sparki-checkout-'));
    await writeFile(join(outside, 'secret.txt'), 'runner secret');
    await writeFile(join(checkout, 'index.html'), '<p>hi</p>');
    await symlink(join(outside, 'secret.txt'), join(checkout, 'package.json'));
    await symlink(outside, join(checkout, 'linked'));
  });

  afterAll(async () => {
    await rm(outside, { recursive: true, force: true });
    await rm(checkout, { recursive: true, force: true });
  });

  it('does not follow symbolic links out of the checkout', async () => {
    const tree = await fileSystemTree(checkout);
    expect(await tree.read('package.json')).toBeUndefined();
    expect(await tree.exists('linked/secret.txt')).toBe(false);
    expect(await tree.list('linked')).toEqual([]);
    expect(await tree.list('')).toEqual(['index.html', 'linked', 'package.json']);
    expect(await tree.read('index.html')).toBe('<p>hi</p>');
  });
});
