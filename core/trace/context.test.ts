import { describe, expect, it } from 'vitest';
import { childContext, formatTraceparent, parseTraceparent } from './context';

// The example of the W3C Trace Context specification, section 3.2.
const EXAMPLE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('traceparent', () => {
  it('reads the specification’s example and writes it back unchanged', () => {
    const context = parseTraceparent(EXAMPLE);
    expect(context).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      flags: 1,
    });
    expect(formatTraceparent(context!)).toBe(EXAMPLE);
  });

  it('ignores values the specification says to ignore', () => {
    for (const value of [
      undefined,
      null,
      '',
      'garbage',
      // upper case hex, all-zero ids, version ff, a wrong length
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01',
      // version 00 has exactly four fields
      `${EXAMPLE}-extra`,
    ]) {
      expect(parseTraceparent(value), String(value)).toBeUndefined();
    }
  });

  it('reads a future version by its version 00 prefix', () => {
    expect(
      parseTraceparent('cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what'),
    ).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      flags: 1,
    });
  });

  it('makes children in the parent’s trace, and new sampled roots without one', () => {
    const parent = parseTraceparent(EXAMPLE)!;
    const child = childContext(parent);
    expect(child.traceId).toBe(parent.traceId);
    expect(child.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(child.spanId).not.toBe(parent.spanId);
    const root = childContext(undefined);
    expect(root.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(root.traceId).not.toBe(childContext(undefined).traceId);
    expect(parseTraceparent(formatTraceparent(root))).toEqual(root);
    expect(formatTraceparent(root)).toMatch(/-01$/);
  });
});
