import { describe, expect, it } from 'vitest';
import type { LogLine } from '../../../../core/log-stream';
import {
  ansiTokens,
  buildRows,
  findMatches,
  formatLineRange,
  LogBuffer,
  markTokens,
  parseLineRange,
  plainText,
  reconnectDelay,
  selectLines,
  stepMatch,
} from './log-model';

const line = (seq: number, text = `line ${seq}`, step_id?: string): LogLine => ({
  seq,
  stream: 'stdout',
  text,
  ts: 1_700_000_000_000 + seq,
  ...(step_id ? { step_id } : {}),
});

describe('ANSI to tokens', () => {
  it('gives coloured and bold runs their style and plain runs none', () => {
    const tokens = ansiTokens('\x1b[31merror\x1b[0m: \x1b[1;32mok\x1b[0m done');
    expect(tokens.map((token) => token.text)).toEqual(['error', ': ', 'ok', ' done']);
    expect(tokens[0]!.fg).toBe('var(--ansi-red)');
    expect(tokens[1]!.fg).toBeUndefined();
    expect(tokens[2]).toMatchObject({ bold: true, fg: 'var(--ansi-green)' });
    expect(tokens[3]).toEqual({ text: ' done' });
  });

  it('reads 256 colours and true colour', () => {
    expect(ansiTokens('\x1b[38;5;196mred')[0]!.fg).toMatch(/^rgb\(/);
    expect(ansiTokens('\x1b[97;44mwhite on blue')[0]).toMatchObject({
      fg: 'var(--ansi-bright-white)',
      bg: 'var(--ansi-blue)',
    });
    expect(ansiTokens('\x1b[38;2;10;20;30mtc')[0]!.fg).toBe('rgb(10, 20, 30)');
  });

  it('keeps markup-looking text as text', () => {
    expect(ansiTokens('<b>&amp;</b>')).toEqual([{ text: '<b>&amp;</b>' }]);
  });

  it('shows the last draw of a line redrawn with carriage returns', () => {
    expect(plainText('10%\r50%\r100%')).toBe('100%');
    expect(ansiTokens('10%\r\x1b[32m100%')[0]).toMatchObject({ text: '100%' });
  });

  it('strips escape sequences for search', () => {
    expect(plainText('\x1b[1;31mred\x1b[0m \x1b]0;title\x07plain\x1b[2K')).toBe('red plain');
  });
});

describe('search', () => {
  it('marks matches across token boundaries, case-insensitively, keeping styles', () => {
    const marked = markTokens(ansiTokens('\x1b[31mfoo\x1b[0mBAR baz'), 'ob');
    expect(marked.map((t) => [t.text, Boolean(t.mark), Boolean(t.fg)])).toEqual([
      ['fo', false, true],
      ['o', true, true],
      ['B', true, false],
      ['AR baz', false, false],
    ]);
    expect(markTokens([{ text: 'aXa' }], 'a').filter((t) => t.mark)).toHaveLength(2);
    expect(markTokens([{ text: 'abc' }], '')).toEqual([{ text: 'abc' }]);
  });

  it('finds the lines whose visible text holds the query, and steps through them', () => {
    const buffer = new LogBuffer();
    buffer.add([line(1, 'compiling'), line(2, '\x1b[31mERROR\x1b[0m here'), line(3, 'error too')]);
    expect(findMatches(buffer.lines, 'error')).toEqual([2, 3]);
    expect(findMatches(buffer.lines, '[31m')).toEqual([]);
    expect(findMatches(buffer.lines, '')).toEqual([]);
    expect(stepMatch(2, -1, 1)).toBe(0);
    expect(stepMatch(2, 1, 1)).toBe(0);
    expect(stepMatch(2, 0, -1)).toBe(1);
    expect(stepMatch(0, 0, 1)).toBe(-1);
  });
});

describe('line permalinks', () => {
  it('parses one line and ranges in either order', () => {
    expect(parseLineRange('#L12')).toEqual({ start: 12, end: 12 });
    expect(parseLineRange('#L10-L20')).toEqual({ start: 10, end: 20 });
    expect(parseLineRange('#L20-L10')).toEqual({ start: 10, end: 20 });
    expect(parseLineRange('L3-5')).toEqual({ start: 3, end: 5 });
    for (const bad of ['', '#', '#L', '#L0', '#Lx', '#L1-', '#top', '#L1-L2-L3']) {
      expect(parseLineRange(bad), bad).toBeNull();
    }
  });

  it('formats what it parses', () => {
    expect(formatLineRange({ start: 4, end: 4 })).toBe('#L4');
    expect(formatLineRange({ start: 4, end: 9 })).toBe('#L4-L9');
  });

  it('selects on click and extends from the first line on shift-click', () => {
    const one = selectLines(null, 7, false);
    expect(one).toEqual({ start: 7, end: 7 });
    expect(selectLines(one, 12, true)).toEqual({ start: 7, end: 12 });
    expect(selectLines(one, 3, true)).toEqual({ start: 3, end: 7 });
    expect(selectLines(null, 3, true)).toEqual({ start: 3, end: 3 });
    expect(selectLines({ start: 3, end: 7 }, 9, false)).toEqual({ start: 9, end: 9 });
  });
});

describe('the log buffer across reconnections', () => {
  it('keeps every line once, in order, when a resumed replay overlaps what it has', () => {
    const buffer = new LogBuffer();
    expect(buffer.add([line(1), line(2), line(3)])).toBe(3);
    // A new socket replays from the last sequence number the page had, and a retry overlaps.
    expect(buffer.add([line(2), line(3), line(4)])).toBe(1);
    expect(buffer.add([line(4)])).toBe(0);
    expect(buffer.lines.map((l) => l.seq)).toEqual([1, 2, 3, 4]);
    expect(buffer.lastSeq).toBe(4);
  });

  it('holds lines that arrive ahead of a gap until the gap is filled', () => {
    const buffer = new LogBuffer();
    buffer.add([line(1)]);
    expect(buffer.add([line(4), line(3)])).toBe(0);
    expect(buffer.lastSeq).toBe(1);
    expect(buffer.waiting).toBe(2);
    expect(buffer.add([line(2)])).toBe(3);
    expect(buffer.lines.map((l) => l.seq)).toEqual([1, 2, 3, 4]);
    expect(buffer.waiting).toBe(0);
  });
});

describe('reconnection delays', () => {
  it('double from half a second up to ten, with at most a quarter second of jitter', () => {
    expect([0, 1, 2, 3, 4, 5, 30].map((attempt) => reconnectDelay(attempt, 0))).toEqual([
      500, 1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
    expect(reconnectDelay(0, 0.999)).toBe(749);
  });
});

describe('rows', () => {
  const steps = [
    { id: 'install', position: 0, name: 'Install', command: 'npm ci', status: 'succeeded' },
    { id: 'build', position: 1, name: 'Build', command: 'npm run build', status: 'running' },
    { id: 'deploy', position: 2, name: 'Deploy', command: 'upload', status: 'pending' },
  ] as const;

  it('heads each step, hides a collapsed step’s lines and lists steps without lines', () => {
    const buffer = new LogBuffer();
    buffer.add([line(1, 'setup'), line(2, 'a', 'install'), line(3, 'b', 'install')]);
    buffer.add([line(4, 'c', 'build')]);
    const open = buildRows(buffer.lines, [...steps], new Set());
    expect(
      open.rows.map((row) => (row.kind === 'step' ? `# ${row.stepId} ${row.lines}` : row.line.seq)),
    ).toEqual([1, '# install 2', 2, 3, '# build 1', 4, '# deploy 0']);
    expect(open.rowOf[4]).toBe(5);

    const closed = buildRows(buffer.lines, [...steps], new Set(['install']));
    expect(closed.rows.map((row) => (row.kind === 'step' ? row.collapsed : row.line.seq))).toEqual([
      1,
      true,
      false,
      4,
      false,
    ]);
    expect(closed.rowOf[2]).toBe(-1);
    expect(closed.rowOf[4]).toBe(3);
  });
});
