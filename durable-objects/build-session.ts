import { DurableObject } from 'cloudflare:workers';
import { z } from 'zod';

export const LogLineInputSchema = z.object({
  stream: z.enum(['stdout', 'stderr', 'system']),
  text: z.string(),
  stepId: z.string().optional(),
  ts: z.number().int().nonnegative(),
});
export type LogLineInput = z.infer<typeof LogLineInputSchema>;
export type LogLine = LogLineInput & { seq: number };

interface LogRow extends Record<string, SqlStorageValue> {
  seq: number;
  stream: string;
  text: string;
  step_id: string | null;
  ts: number;
}

/**
 * One per build: the append-only, sequence-numbered log. Sequence numbers come from SQLite, so
 * lines stay ordered even when appends arrive out of order from the caller's point of view.
 */
export class BuildSession extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS log_lines (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      stream TEXT NOT NULL,
      text TEXT NOT NULL,
      step_id TEXT,
      ts INTEGER NOT NULL
    )`);
  }

  async append(lines: LogLineInput[]): Promise<{ lastSeq: number }> {
    const valid = z.array(LogLineInputSchema).parse(lines);
    let lastSeq = 0;
    this.ctx.storage.transactionSync(() => {
      for (const line of valid) {
        const row = this.ctx.storage.sql
          .exec<{ seq: number }>(
            'INSERT INTO log_lines (stream, text, step_id, ts) VALUES (?, ?, ?, ?) RETURNING seq',
            line.stream,
            line.text,
            line.stepId ?? null,
            line.ts,
          )
          .one();
        lastSeq = row.seq;
      }
    });
    return { lastSeq };
  }

  async read(afterSeq = 0, limit = 1000): Promise<LogLine[]> {
    return this.ctx.storage.sql
      .exec<LogRow>(
        'SELECT seq, stream, text, step_id, ts FROM log_lines WHERE seq > ? ORDER BY seq LIMIT ?',
        afterSeq,
        Math.min(Math.max(limit, 1), 5000),
      )
      .toArray()
      .map((row) => ({
        seq: row.seq,
        stream: LogLineInputSchema.shape.stream.parse(row.stream),
        text: row.text,
        ts: row.ts,
        ...(row.step_id ? { stepId: row.step_id } : {}),
      }));
  }
}
