import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Role } from '../../../core/roles';
import type { Build } from '../../../db/schema';
import { buildStatus, buildTrigger } from '../../../db/schema/enums';
import { findBuild } from '../../../domain/builds/queries';
import { loadResource } from '../../auth/authorize';
import type { HonoEnv } from '../../context';
import { iso } from '../../openapi';

export const BuildStatusSchema = z.enum(buildStatus.enumValues);
export const BuildTriggerSchema = z.enum(buildTrigger.enumValues);

export const BuildSchema = z
  .object({
    id: z.uuid(),
    project_id: z.uuid(),
    number: z.number().int().openapi({ description: 'Per project, increasing' }),
    status: BuildStatusSchema,
    trigger: BuildTriggerSchema,
    target: z.enum(['production', 'preview']),
    branch: z.string().nullable(),
    commit_sha: z
      .string()
      .nullable()
      .openapi({
        description:
          'The commit built; null for a branch build started without one until its runner has ' +
          'checked out the branch head and reported it',
      }),
    commit_message: z.string().nullable(),
    tag: z.string().nullable(),
    pull_request: z.number().int().nullable(),
    attempt: z.number().int(),
    retry_of: z.uuid().nullable(),
    runner_id: z.uuid().nullable(),
    error: z.string().nullable(),
    cancel_requested_at: z.iso.datetime().nullable(),
    queued_at: z.iso.datetime(),
    started_at: z.iso.datetime().nullable(),
    finished_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
  })
  .openapi('Build');

/** `/api/builds/{id}/…` */
export const BuildParams = z.object({ id: z.uuid() });

export function toBuild(row: Build): z.infer<typeof BuildSchema> {
  return {
    id: row.id,
    project_id: row.projectId,
    number: row.number,
    status: row.status,
    trigger: row.trigger,
    target: row.target,
    branch: row.branch,
    commit_sha: row.commitSha,
    commit_message: row.commitMessage,
    tag: row.tag,
    pull_request: row.pullRequest,
    attempt: row.attempt,
    retry_of: row.retryOf,
    runner_id: row.runnerId,
    error: row.error,
    cancel_requested_at: iso(row.cancelRequestedAt),
    queued_at: row.queuedAt.toISOString(),
    started_at: iso(row.startedAt),
    finished_at: iso(row.finishedAt),
    created_at: row.createdAt.toISOString(),
  };
}

/** The build named by the path, if the caller holds `minimum` on its project; 404 otherwise. */
export function loadBuild(c: Context<HonoEnv>, id: string, minimum: Role) {
  return loadResource(c, 'Build', (db) => findBuild(db, id), minimum);
}
