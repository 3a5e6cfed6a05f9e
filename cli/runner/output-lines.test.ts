import { describe, expect, it } from 'vitest';
import { MAX_LINE_LENGTH, OutputLines } from './output-lines';

const SECRET = 'hunter2-correct-horse';

function collect(secrets: string[], chunks: string[]): string[] {
  const lines: string[] = [];
  const output = new OutputLines(secrets, (text) => lines.push(text));
  for (const chunk of chunks) output.write(chunk);
  output.end();
  return lines;
}

describe('OutputLines', () => {
  it('splits chunks into lines, whatever the chunk boundaries', () => {
    expect(collect([], ['a\nb', 'c\r\n', '\nlast'])).toEqual(['a', 'bc', '', 'last']);
  });

  it('masks a secret, its base64 forms and a secret split across two chunks', () => {
    const b64 = Buffer.from(`token=${SECRET}`).toString('base64');
    const lines = collect(
      [SECRET],
      [
        `plain ${SECRET}\n`,
        `b64 ${b64}\n`,
        `split ${SECRET.slice(0, 7)}`,
        `${SECRET.slice(7)} end\n`,
      ],
    );
    expect(lines[0]).toBe('plain ***');
    expect(lines[2]).toBe('split *** end');
    for (const text of lines) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(Buffer.from(SECRET).toString('base64').slice(0, 20));
    }
  });

  it('cuts a line longer than the log accepts without letting a secret through the cut', () => {
    const long = `${'x'.repeat(MAX_LINE_LENGTH - 5)}${SECRET}${'y'.repeat(10)}`;
    const lines = collect([SECRET], [long.slice(0, 40_000), long.slice(40_000)]);
    expect(lines.every((text) => text.length <= MAX_LINE_LENGTH)).toBe(true);
    expect(lines.join('')).toBe(`${'x'.repeat(MAX_LINE_LENGTH - 5)}***${'y'.repeat(10)}`);
  });
});
