import { describe, expect, it } from 'vitest';
import { parseDotenv, planDotenv, serializeDotenv } from './dotenv';

describe('.env text', () => {
  it('parses bare, quoted, exported and commented lines', () => {
    const text = [
      '# a comment',
      '',
      'PLAIN=value',
      'export EXPORTED = spaced # trailing comment',
      'HASH=a#b',
      "SINGLE='literal \\n $x'",
      'DOUBLE="line\\none \\"q\\""',
      'MULTI="first',
      'second"',
      'EMPTY=',
      'PLAIN=again',
    ].join('\r\n');
    const { entries, problems } = parseDotenv(text);
    expect(problems).toEqual([]);
    expect(entries).toEqual([
      { name: 'EXPORTED', value: 'spaced' },
      { name: 'HASH', value: 'a#b' },
      { name: 'SINGLE', value: 'literal \\n $x' },
      { name: 'DOUBLE', value: 'line\none "q"' },
      { name: 'MULTI', value: 'first\nsecond' },
      { name: 'EMPTY', value: '' },
      { name: 'PLAIN', value: 'again' },
    ]);
  });

  it('reports the lines it cannot read, with their numbers', () => {
    const { entries, problems } = parseDotenv('OK=1\nno equals\n1BAD=x\nOPEN="never\nX=\'y');
    expect(entries).toEqual([{ name: 'OK', value: '1' }]);
    expect(problems).toEqual([
      { line: 2, message: 'expected NAME=value' },
      { line: 3, message: expect.stringContaining('1BAD is not a variable name') },
      { line: 4, message: 'OPEN: the double quote is never closed' },
    ]);
  });

  it('writes text that parses back to the same values', () => {
    const entries = [
      { name: 'A', value: 'simple-value_1.2:3' },
      { name: 'B', value: 'has space # and hash' },
      { name: 'C', value: 'quote " backslash \\ newline \n tab \t' },
      { name: 'D', value: '' },
    ];
    const text = serializeDotenv(entries);
    expect(text.split('\n')[0]).toBe('A=simple-value_1.2:3');
    expect(parseDotenv(text)).toEqual({ entries, problems: [] });
  });
});

describe('saving edited .env text', () => {
  const current = [
    { name: 'KEEP', secret: false, value: 'same' },
    { name: 'CHANGE', secret: false, value: 'old' },
    { name: 'GONE', secret: false, value: 'x' },
    { name: 'TOKEN', secret: true },
  ];

  it('writes new and changed names, removes plain ones no longer listed, leaves secrets', () => {
    const plan = planDotenv(current, [
      { name: 'KEEP', value: 'same' },
      { name: 'CHANGE', value: 'new' },
      { name: 'ADDED', value: '1' },
    ]);
    expect(plan).toEqual({
      set: [
        { name: 'CHANGE', value: 'new', secret: false },
        { name: 'ADDED', value: '1', secret: false },
      ],
      remove: ['GONE'],
    });
  });

  it('pastes as secrets, keeps a listed secret secret, and can add without removing', () => {
    expect(
      planDotenv(current, [{ name: 'TOKEN', value: 'rotated' }], { removeMissing: false }),
    ).toEqual({ set: [{ name: 'TOKEN', value: 'rotated', secret: true }], remove: [] });
    expect(
      planDotenv(current, [{ name: 'KEEP', value: 'same' }], {
        asSecret: true,
        removeMissing: false,
      }).set,
    ).toEqual([{ name: 'KEEP', value: 'same', secret: true }]);
  });
});
