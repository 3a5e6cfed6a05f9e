import { describe, expect, it } from 'vitest';
import {
  BLOB_MAX_BYTES,
  OUTPUT_MAX_BYTES,
  OutputFilesSchema,
  outputManifest,
  outputPathProblem,
} from './build-output';

const hash = (char: string) => char.repeat(64);

describe('build output paths', () => {
  it('accepts relative /-separated paths', () => {
    for (const path of ['index.html', 'assets/app.3f2a.js', 'a b/ünï.txt', '.well-known/x']) {
      expect(outputPathProblem(path), path).toBeNull();
    }
  });

  it('refuses anything that could climb out or parse two ways', () => {
    expect(outputPathProblem('')).toMatch(/1 to 1023/);
    expect(outputPathProblem('x'.repeat(1024))).toMatch(/1 to 1023/);
    expect(outputPathProblem('/etc/passwd')).toMatch(/relative/);
    expect(outputPathProblem('a\\b')).toMatch(/separator/);
    expect(outputPathProblem('a\u0000b')).toMatch(/control/);
    for (const path of ['../x', 'a/../b', 'a//b', './a', 'a/']) {
      expect(outputPathProblem(path), path).toMatch(/segments/);
    }
  });
});

describe('the output file list', () => {
  it('refuses duplicates, one blob with two sizes and an output over the limit', () => {
    const twice = OutputFilesSchema.safeParse({
      files: [
        { path: 'a', hash: hash('a'), size: 1 },
        { path: 'a', hash: hash('b'), size: 1 },
      ],
    });
    expect(twice.error?.issues[0]?.message).toBe('a is listed twice');
    const sizes = OutputFilesSchema.safeParse({
      files: [
        { path: 'a', hash: hash('a'), size: 1 },
        { path: 'b', hash: hash('a'), size: 2 },
      ],
    });
    expect(sizes.error?.issues[0]?.message).toMatch(/two sizes/);
    const files = Array.from(
      { length: Math.ceil(OUTPUT_MAX_BYTES / BLOB_MAX_BYTES) + 1 },
      (_, i) => ({
        path: `f${i}`,
        hash: i.toString(16).padStart(64, '0'),
        size: BLOB_MAX_BYTES,
      }),
    );
    expect(OutputFilesSchema.safeParse({ files }).error?.issues[0]?.message).toMatch(/over the/);
    expect(OutputFilesSchema.safeParse({ files: [] }).success).toBe(false);
  });

  it('becomes a manifest keyed by absolute path', () => {
    expect(
      outputManifest([
        { path: 'index.html', hash: hash('a'), size: 3 },
        { path: 'css/x.css', hash: hash('a'), size: 3 },
      ]),
    ).toEqual({
      version: 1,
      spa: false,
      files: {
        '/index.html': { hash: hash('a'), size: 3 },
        '/css/x.css': { hash: hash('a'), size: 3 },
      },
    });
  });
});
