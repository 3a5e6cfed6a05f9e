import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listOutput } from './output-upload';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('listOutput', () => {
  it('lists regular files, never git’s directory nor symbolic links', async () => {
    dir = await mkdtemp(join(tmpdir(), 'sparki-output-'));
    await mkdir(join(dir, '.git', 'objects'), { recursive: true });
    await writeFile(join(dir, '.git', 'config'), '[core]\n');
    await writeFile(join(dir, '.git', 'objects', 'ab'), 'blob');
    await mkdir(join(dir, 'vendor', 'lib'), { recursive: true });
    // A submodule or worktree keeps a `.git` file naming its git directory.
    await writeFile(join(dir, 'vendor', 'lib', '.git'), 'gitdir: ../../.git/modules/lib\n');
    await writeFile(join(dir, 'vendor', 'lib', 'lib.js'), 'x');
    await writeFile(join(dir, 'index.html'), '<h1>hi</h1>');
    await writeFile(join(dir, '.gitignore'), 'node_modules\n');
    await symlink('/etc/passwd', join(dir, 'leak'));
    const skipped: string[] = [];
    const files = await listOutput(dir, (path, why) => skipped.push(`${path}: ${why}`));
    expect(files.map((file) => file.path)).toEqual([
      '.gitignore',
      'index.html',
      'vendor/lib/lib.js',
    ]);
    expect(skipped.sort()).toEqual([
      '.git: git’s own directory is not published',
      'leak: symbolic links are not published',
      'vendor/lib/.git: git’s own directory is not published',
    ]);
  });

  it('refuses a directory with nothing to publish', async () => {
    dir = await mkdtemp(join(tmpdir(), 'sparki-output-'));
    await mkdir(join(dir, '.git'));
    await writeFile(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    await expect(listOutput(dir)).rejects.toThrow(/is empty/);
  });
});
