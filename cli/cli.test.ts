import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sparkiJsonSchema } from '../core/detect';

const HERE = dirname(fileURLToPath(import.meta.url));
const BIN = join(HERE, 'bin.mjs');
const FIXTURES = join(HERE, '../test/fixtures/detect');

/** Runs the real `sparki` executable as a separate process. */
function sparki(
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: FIXTURES });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('sparki detect', () => {
  it('prints the decision and its evidence as a table', async () => {
    const { code, stdout, stderr } = await sparki('detect', 'nextjs');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe(`Sparki detection for ${join(FIXTURES, 'nextjs')}`);
    expect(lines[2]).toMatch(/^FIELD +VALUE +EVIDENCE$/);
    expect(lines).toContainEqual(
      expect.stringMatching(/^framework +Next\.js \(nextjs\) +package\.json depends on "next"$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^install +npm ci +package-lock\.json: install exactly the locked versions$/,
      ),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^output directory +\.next +/));
    expect(lines).toContainEqual(expect.stringMatching(/^runtime version +22\.12\.0 +\.nvmrc$/));
  });

  it('prints JSON with --json, for a monorepo member with --root-dir', async () => {
    const { code, stdout } = await sparki('detect', 'monorepo', '--root-dir', 'apps/web', '--json');
    expect(code).toBe(0);
    const detection = JSON.parse(stdout);
    expect(detection).toMatchObject({
      rootDir: 'apps/web',
      framework: { value: 'vite-react' },
      packageManager: { value: { name: 'pnpm', version: '9.15.4' } },
      installCommand: { value: 'pnpm install --frozen-lockfile' },
      outputDirectory: { value: 'dist', evidence: 'Vite + React writes its build to dist' },
    });
  });

  it('inspects the current directory by default', async () => {
    const { code, stdout } = await sparki('detect', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout).framework.value).toBeNull();
  });

  it('fails with a clear message on a missing directory', async () => {
    const { code, stdout, stderr } = await sparki('detect', 'no-such-project');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`error: directory "${join(FIXTURES, 'no-such-project')}" does not exist\n`);
  });

  it('fails on a root directory outside the checkout', async () => {
    const { code, stderr } = await sparki('detect', 'nextjs', '--root-dir', '../astro');
    expect(code).toBe(1);
    expect(stderr).toBe('error: "../astro" points outside the repository\n');
  });

  it('fails listing the bad fields of an invalid sparki.json', async () => {
    const { code, stdout, stderr } = await sparki('detect', 'invalid-sparki-json');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^error: sparki\.json is invalid:\n/);
    expect(stderr).toContain('  - framework: "webobjects" is not one of');
    expect(stderr).toContain(
      '  - outputDirectory: Invalid input: expected string, received number',
    );
    expect(stderr).toContain('  - buildCommmand: unknown field');
  });

  it('rejects an unknown option', async () => {
    const { code, stderr } = await sparki('detect', '--frobnicate');
    // A usage error: exit code 2 (docs/cli.md).
    expect(code).toBe(2);
    expect(stderr).toContain("unknown option '--frobnicate'");
  });
});

describe('sparki schema', () => {
  it('prints the JSON Schema of sparki.json', async () => {
    const { code, stdout } = await sparki('schema');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(sparkiJsonSchema());
  });
});
