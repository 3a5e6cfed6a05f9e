import { describe, expect, it } from 'vitest';
import {
  encodeLines,
  PackedLinesFrameSchema,
  packLines,
  parseViewerFrame,
  unpackLines,
} from './log-frames';
import type { LogLine } from './log-stream';

const T = Date.parse('2026-12-02T01:00:00.000Z');
const lines: LogLine[] = [
  { seq: 7, stream: 'system', text: '$ npm run build', step_id: 'build', ts: T },
  { seq: 8, stream: 'stdout', text: 'vite v7', step_id: 'build', ts: T + 12 },
  { seq: 9, stream: 'stdout', text: 'building…', step_id: 'build', ts: T + 12 },
  { seq: 10, stream: 'stderr', text: 'warn "x"', step_id: 'build', ts: T + 40 },
  { seq: 11, stream: 'system', text: 'Uploading', ts: T + 41 },
  // A clock that stepped back: the difference is negative, and kept.
  { seq: 12, stream: 'system', text: '', ts: T + 30 },
];

describe('packed log lines', () => {
  it('round-trip consecutive lines: streams, steps, times, empty text and all', () => {
    const packed = packLines(lines);
    expect(packed).toEqual({
      type: 'lines_packed',
      seq: 7,
      text: lines.map((line) => line.text),
      ts: [T, 12, 0, 28, 1, -11],
      runs: [
        [1, 'system', 'build'],
        [2, 'stdout', 'build'],
        [1, 'stderr', 'build'],
        [2, 'system', null],
      ],
    });
    expect(unpackLines(PackedLinesFrameSchema.parse(JSON.parse(JSON.stringify(packed))))).toEqual(
      lines,
    );
  });

  it('take a third of the bytes of line objects for short lines', () => {
    const probes: LogLine[] = Array.from({ length: 200 }, (_, i) => ({
      seq: 1000 + i,
      stream: 'stdout',
      text: `L ${1000 + i} ${(T + i * 0.25).toFixed(3)}`,
      step_id: 'build',
      ts: T + Math.floor(i / 4),
    }));
    const objects = JSON.stringify(encodeLines(probes, 'objects')).length;
    const packed = JSON.stringify(encodeLines(probes, 'packed')).length;
    expect(packed).toBeLessThan(objects / 2.5);
  });

  it('parse either encoding into the same message, and nothing else', () => {
    const asObjects = JSON.stringify(encodeLines(lines, 'objects'));
    const asPacked = JSON.stringify(encodeLines(lines, 'packed'));
    expect(parseViewerFrame(asObjects)).toEqual({ type: 'lines', lines });
    expect(parseViewerFrame(asPacked)).toEqual({ type: 'lines', lines });
    expect(parseViewerFrame('{"type":"presence","watching":3}')).toEqual({
      type: 'presence',
      watching: 3,
    });
    const frame = packLines(lines);
    const broken = [
      'pong',
      '{"type":"hello"}',
      JSON.stringify({ ...frame, ts: frame.ts.slice(1) }),
      JSON.stringify({ ...frame, runs: [[5, 'stdout', null]] }),
      JSON.stringify({ ...frame, seq: 0 }),
      JSON.stringify({ ...frame, runs: [[6, 'stdin', null]] }),
      // Times that unpack to before the epoch are not times.
      JSON.stringify({ ...frame, ts: [-1, 0, 0, 0, 0, 0] }),
    ];
    for (const data of broken) expect(parseViewerFrame(data)).toBeNull();
  });
});
