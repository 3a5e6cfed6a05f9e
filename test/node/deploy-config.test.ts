import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const wranglerBin = join(
  dirname(createRequire(import.meta.url).resolve('wrangler/package.json')),
  'bin',
  'wrangler.js',
);

/** The variables `wrangler deploy` would upload with the committed configuration. */
async function deployedVars(): Promise<Map<string, string>> {
  const outdir = await mkdtemp(join(tmpdir(), 'sparki-dry-run-'));
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [wranglerBin, 'deploy', '--dry-run', '--outdir', outdir],
      { env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' } },
    );
    const vars = [...stdout.matchAll(/env\.(\w+) \("(.*)"\)\s+Environment Variable/g)];
    return new Map(vars.map(([, name, value]) => [name!, value!]));
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

describe('the deployed configuration (wrangler deploy --dry-run)', () => {
  it('is production: APP_ENV says so, and nothing development-only is shipped', async () => {
    const vars = await deployedVars();
    expect(vars.get('APP_ENV')).toBe('production');
    // Per-deployment values and secrets are the operator's (wrangler secret put), never ours.
    for (const name of ['PUBLIC_URL', 'HOSTING_DOMAIN', 'RESEND_BASE_URL', 'DATABASE_URL']) {
      expect(vars.has(name), name).toBe(false);
    }
    expect(vars.get('NEON_WS_PROXY')).toBe('');
    expect(vars.get('NEON_PIPELINE_CONNECT')).toBe('');
  }, 60_000);
});
