import { z } from 'zod';
import { JobResultSchema, LogStreamSchema, StepReportSchema } from './runner-protocol';

/**
 * What a build log viewer receives, over `GET /api/builds/{id}/logs/live` (WebSocket, JSON text
 * frames) and in the HTTP log routes. The dashboard parses frames with `ViewerMessageSchema`.
 */

/** One stored line: `seq` counts from 1 with no gaps; `ts` is milliseconds since the epoch. */
export const LogLineSchema = z.object({
  seq: z.number().int().positive(),
  stream: LogStreamSchema,
  text: z.string(),
  step_id: z.string().optional(),
  ts: z.number().int().nonnegative(),
});
export type LogLine = z.infer<typeof LogLineSchema>;

export const StepStatesSchema = StepReportSchema.shape.steps;
export type StepStates = z.infer<typeof StepStatesSchema>;

export const BuildEndStatusSchema = JobResultSchema.shape.status;
export type BuildEndStatus = z.infer<typeof BuildEndStatusSchema>;

/**
 * On connect a viewer gets the current `steps` (if the plan is known), the replay as `lines`
 * frames, `caught_up` once the replay is complete, then live frames. A finished build sends
 * `end` after the replay and closes the socket with 1000.
 */
export const ViewerMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('lines'), lines: z.array(LogLineSchema).min(1) }),
  z.object({ type: z.literal('caught_up'), last_seq: z.number().int().nonnegative() }),
  z.object({ type: z.literal('steps'), steps: StepStatesSchema }),
  z.object({ type: z.literal('presence'), watching: z.number().int().nonnegative() }),
  z.object({ type: z.literal('end'), status: BuildEndStatusSchema }),
]);
export type ViewerMessage = z.infer<typeof ViewerMessageSchema>;

/**
 * How often, at most, every viewer is told how many are watching. Telling everyone on each join
 * or leave costs O(viewers²) frames when a crowd arrives (1,000 viewers: 500,500 frames); a
 * joiner is told the count at once, the others at the next update.
 */
export const PRESENCE_INTERVAL_MS = 1000;

/** Where a finished build's log is archived in the LOGS bucket, one `LogLine` per line. */
export function buildLogKey(buildId: string): string {
  return `builds/${buildId}/log.ndjson`;
}

/** A line of the plain-text download: `<ISO time> [<step or ->] <stream>: <text>`. */
export function formatLogLine(line: LogLine): string {
  return `${new Date(line.ts).toISOString()} [${line.step_id ?? '-'}] ${line.stream}: ${line.text}`;
}
