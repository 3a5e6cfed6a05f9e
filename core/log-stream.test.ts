import { describe, expect, it } from 'vitest';
import { buildLogKey, formatLogLine, ViewerMessageSchema } from './log-stream';

describe('log stream messages', () => {
  it('accept the frames a viewer is sent', () => {
    const frames = [
      { type: 'lines', lines: [{ seq: 1, stream: 'stdout', text: 'hi', step_id: 'build', ts: 0 }] },
      { type: 'caught_up', last_seq: 1 },
      { type: 'presence', watching: 2 },
      {
        type: 'steps',
        steps: [
          { id: 'build', position: 0, name: 'Build', command: 'npm run build', status: 'running' },
        ],
      },
      { type: 'end', status: 'succeeded' },
    ];
    for (const frame of frames) expect(ViewerMessageSchema.parse(frame)).toEqual(frame);
  });

  it('refuse malformed frames', () => {
    expect(ViewerMessageSchema.safeParse({ type: 'lines', lines: [] }).success).toBe(false);
    expect(ViewerMessageSchema.safeParse({ type: 'end', status: 'running' }).success).toBe(false);
    expect(
      ViewerMessageSchema.safeParse({
        type: 'lines',
        lines: [{ seq: 0, stream: 'stdout', text: 'x', ts: 0 }],
      }).success,
    ).toBe(false);
    expect(ViewerMessageSchema.safeParse({ type: 'hello' }).success).toBe(false);
  });

  it('format download lines with time, step and stream', () => {
    const ts = Date.parse('2026-11-23T11:10:45.123Z');
    expect(
      formatLogLine({ seq: 4, stream: 'stderr', text: 'npm warn x', step_id: 'install', ts }),
    ).toBe('2026-11-23T11:10:45.123Z [install] stderr: npm warn x');
    expect(formatLogLine({ seq: 5, stream: 'system', text: 'Cloning', ts })).toBe(
      '2026-11-23T11:10:45.123Z [-] system: Cloning',
    );
  });

  it('archive each build under its own key', () => {
    expect(buildLogKey('7d9f0c1e-0000-4000-8000-000000000000')).toBe(
      'builds/7d9f0c1e-0000-4000-8000-000000000000/log.ndjson',
    );
  });
});
