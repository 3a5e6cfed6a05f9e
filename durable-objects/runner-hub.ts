import { DurableObject } from 'cloudflare:workers';
import { z } from 'zod';

export const JobOfferSchema = z.object({
  buildId: z.uuid(),
  projectId: z.uuid(),
  labels: z.array(z.string()).default([]),
});
export type JobOffer = z.input<typeof JobOfferSchema>;

export interface QueuedJob {
  buildId: string;
  projectId: string;
  labels: string[];
  enqueuedAt: number;
}

interface JobRow extends Record<string, SqlStorageValue> {
  build_id: string;
  project_id: string;
  labels: string;
  enqueued_at: number;
}

/**
 * One per runner pool (a workspace): the persistent, ordered job queue that runners claim from.
 * Offering the same build twice is a no-op, so queue redelivery cannot duplicate a job.
 */
export class RunnerHub extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS jobs (
      build_id TEXT PRIMARY KEY,
      project_id TEXT NOT NULL,
      labels TEXT NOT NULL,
      enqueued_at INTEGER NOT NULL
    )`);
  }

  async offer(input: JobOffer): Promise<{ queued: boolean; position: number }> {
    const job = JobOfferSchema.parse(input);
    const inserted = this.ctx.storage.sql.exec(
      'INSERT INTO jobs (build_id, project_id, labels, enqueued_at) VALUES (?, ?, ?, ?) ON CONFLICT (build_id) DO NOTHING',
      job.buildId,
      job.projectId,
      JSON.stringify(job.labels),
      Date.now(),
    ).rowsWritten;
    const { position } = this.ctx.storage.sql
      .exec<{ position: number }>(
        'SELECT COUNT(*) AS position FROM jobs WHERE rowid <= (SELECT rowid FROM jobs WHERE build_id = ?)',
        job.buildId,
      )
      .one();
    return { queued: inserted > 0, position };
  }

  async pending(): Promise<QueuedJob[]> {
    return this.ctx.storage.sql
      .exec<JobRow>('SELECT * FROM jobs ORDER BY rowid')
      .toArray()
      .map((row) => ({
        buildId: row.build_id,
        projectId: row.project_id,
        labels: z.array(z.string()).parse(JSON.parse(row.labels)),
        enqueuedAt: row.enqueued_at,
      }));
  }
}
