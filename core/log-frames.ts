import { z } from 'zod';
import { type LogLine, type ViewerMessage, ViewerMessageSchema } from './log-stream';
import { LogStreamSchema } from './runner-protocol';

/**
 * How a live viewer wants its lines (`?lines=` on the socket): `objects`, one JSON object per
 * line (the default, what every client understood first), or `packed`, the same lines in
 * `lines_packed` frames. Every hop copies each frame once per viewer, and for a short line most
 * of an object is field names, the stream, the step and a 13-digit time: a 24-character line
 * takes ~100 bytes as an object and ~30 packed, an 84-character one 166 and 91.
 */
export const LinesEncodingSchema = z.enum(['objects', 'packed']);
export type LinesEncoding = z.infer<typeof LinesEncodingSchema>;

/**
 * A run of consecutive lines: `seq` is the first line's, the others follow without gaps; `ts`
 * holds the first line's time then each line's difference from the one before; `runs` cuts the
 * lines into spans of one stream and step: `[count, stream, step_id or null]`.
 */
export const PackedLinesFrameSchema = z
  .object({
    type: z.literal('lines_packed'),
    seq: z.number().int().positive(),
    text: z.array(z.string()).min(1),
    ts: z.array(z.number().int()),
    runs: z.array(
      z.tuple([z.number().int().positive(), LogStreamSchema, z.string().max(100).nullable()]),
    ),
  })
  .refine(
    (frame) =>
      frame.ts.length === frame.text.length &&
      frame.runs.reduce((sum, [count]) => sum + count, 0) === frame.text.length,
    { message: 'ts and runs must cover every line of text' },
  );
export type PackedLinesFrame = z.infer<typeof PackedLinesFrameSchema>;

/** `lines` must be consecutive (as stored lines are): a frame names only the first seq. */
export function packLines(lines: readonly LogLine[]): PackedLinesFrame {
  const runs: PackedLinesFrame['runs'] = [];
  const ts: number[] = [];
  let previousTs = 0;
  for (const line of lines) {
    const last = runs.at(-1);
    const step = line.step_id ?? null;
    if (last && last[1] === line.stream && last[2] === step) last[0]++;
    else runs.push([1, line.stream, step]);
    ts.push(line.ts - previousTs);
    previousTs = line.ts;
  }
  return {
    type: 'lines_packed',
    seq: lines[0]!.seq,
    text: lines.map((line) => line.text),
    ts,
    runs,
  };
}

/**
 * The lines of a frame that passed `PackedLinesFrameSchema`, which checked every part but the
 * times they add up to (a replay of 100,000 lines is not checked twice).
 */
export function unpackLines(frame: PackedLinesFrame): LogLine[] {
  const lines: LogLine[] = [];
  let at = 0;
  let ts = 0;
  for (const [count, stream, step] of frame.runs) {
    for (let i = 0; i < count; i++, at++) {
      ts += frame.ts[at]!;
      if (ts < 0) throw new RangeError(`line ${frame.seq + at} has a time before the epoch`);
      lines.push({
        seq: frame.seq + at,
        stream,
        text: frame.text[at]!,
        ...(step !== null && { step_id: step }),
        ts,
      });
    }
  }
  return lines;
}

/** The `lines` frame in the viewer's encoding. */
export function encodeLines(
  lines: LogLine[],
  encoding: LinesEncoding,
): ViewerMessage | PackedLinesFrame {
  return encoding === 'packed' ? packLines(lines) : { type: 'lines', lines };
}

/**
 * A frame from the live log socket as a `ViewerMessage`, packed lines unpacked; null for anything
 * else (a malformed frame, or one of a newer protocol, which a client skips).
 */
export function parseViewerFrame(data: string): ViewerMessage | null {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return null;
  }
  const packed = PackedLinesFrameSchema.safeParse(json);
  if (packed.success) {
    try {
      return { type: 'lines', lines: unpackLines(packed.data) };
    } catch {
      return null;
    }
  }
  const message = ViewerMessageSchema.safeParse(json);
  return message.success ? message.data : null;
}
