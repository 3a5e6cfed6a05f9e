import { describe, expect, it } from 'vitest';
import { canOpenTui } from '../commands/ui';
import { startSparki } from '../spawn-sparki';

const tty = { stdin: { isTTY: true }, stdout: { isTTY: true } };

describe('sparki ui without a terminal', () => {
  it('opens only with both ends a terminal and CI unset', () => {
    expect(canOpenTui({}, tty)).toBe(true);
    expect(canOpenTui({ CI: 'false' }, tty)).toBe(true);
    expect(canOpenTui({ CI: 'true' }, tty)).toBe(false);
    expect(canOpenTui({}, { ...tty, stdout: { isTTY: false } })).toBe(false);
    expect(canOpenTui({}, { ...tty, stdin: {} })).toBe(false);
  });

  it('`sparki` alone prints the help and exits 2, as before', async () => {
    const run = startSparki([], { env: { ...process.env, CI: '' } });
    expect(await run.exited).toBe(2);
    expect(run.output().stderr).toContain('Usage: sparki [options] [command]');
    expect(run.output().stderr).toContain('ui [options]');
  });

  it('`sparki ui` is a usage error (exit 2) saying it needs a terminal', async () => {
    const run = startSparki(['ui'], { env: { ...process.env, CI: '' } });
    expect(await run.exited).toBe(2);
    expect(run.output().stderr).toBe('error: sparki ui needs a terminal (and CI unset)\n');
  });
});
