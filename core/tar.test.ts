import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from 'tar';
import { describe, expect, it } from 'vitest';
import { readTar, writeTar } from './tar';

function site(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sparki-tar-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<h1>hi</h1>');
  writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
  const deep = join(dir, 'a'.repeat(60), 'b'.repeat(60));
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, 'long-name-file.txt'), 'deep');
  return dir;
}

function text(files: ReturnType<typeof readTar>) {
  return Object.fromEntries(files.map((file) => [file.path, new TextDecoder().decode(file.data)]));
}

describe('readTar', () => {
  it('reads archives made by the system tar (GNU), including long paths', () => {
    const dir = site();
    const archive = execFileSync('tar', ['-cf', '-', '-C', dir, '.']);
    expect(text(readTar(new Uint8Array(archive)))).toEqual({
      'index.html': '<h1>hi</h1>',
      'assets/app.js': 'console.log(1)',
      [`${'a'.repeat(60)}/${'b'.repeat(60)}/long-name-file.txt`]: 'deep',
    });
  });

  it('reads archives made by node-tar (pax headers), as the runner makes them', async () => {
    const dir = site();
    const chunks: Buffer[] = [];
    const stream = create({ cwd: dir, portable: true }, ['.']);
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const files = text(readTar(new Uint8Array(Buffer.concat(chunks))));
    expect(files['index.html']).toBe('<h1>hi</h1>');
    expect(files[`${'a'.repeat(60)}/${'b'.repeat(60)}/long-name-file.txt`]).toBe('deep');
  });

  it('refuses truncated archives and paths that escape', () => {
    const dir = site();
    const archive = new Uint8Array(execFileSync('tar', ['-cf', '-', '-C', dir, 'index.html']));
    expect(() => readTar(archive.subarray(0, 520))).toThrow(/truncated/);
    const evil = new Uint8Array(archive);
    const name = new TextEncoder().encode('../evil.html');
    evil.fill(0, 0, 100);
    evil.set(name, 0);
    // Fix the header checksum so only the path is wrong.
    evil.fill(0x20, 148, 156);
    const sum = evil.subarray(0, 512).reduce((a, b) => a + b, 0);
    evil.set(new TextEncoder().encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
    expect(() => readTar(evil)).toThrow(/escapes/);
  });
});

describe('writeTar', () => {
  const files = {
    'index.html': '<h1>hi</h1>',
    'assets/app.js': 'console.log(1)',
    [`${'a'.repeat(60)}/${'b'.repeat(60)}/long-name-file.txt`]: 'deep',
    'ünïcode/ファイル.txt': 'unicode',
    'empty.txt': '',
  };
  const archive = writeTar(
    Object.entries(files).map(([path, body]) => ({ path, data: new TextEncoder().encode(body) })),
  );

  it('writes archives the system tar extracts, long and non-ASCII paths included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sparki-tar-out-'));
    writeFileSync(join(dir, 'out.tar'), archive);
    mkdirSync(join(dir, 'x'));
    execFileSync('tar', ['-xf', join(dir, 'out.tar'), '-C', join(dir, 'x')]);
    for (const [path, body] of Object.entries(files)) {
      expect(readFileSync(join(dir, 'x', path), 'utf8'), path).toBe(body);
    }
  });

  it('reads back what it wrote', () => {
    expect(text(readTar(archive))).toEqual(files);
  });
});
