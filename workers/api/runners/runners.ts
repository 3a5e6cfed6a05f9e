import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import {
  deleteRunner,
  findRunner,
  type RunnerRow,
  setRunnerDisabled,
} from '../../../domain/runners/registry';
import { runnerHub } from '../../../platform/durable-objects';
import { auditFor } from '../../audit';
import { loadResource } from '../../auth/authorize';
import type { HonoEnv } from '../../context';
import { openApiErrorResponses } from '../../errors';
import { iso, json, jsonBody } from '../../openapi';
import { authenticated, newRouter } from '../../router';

/** The hub writes last_seen_at every 30 s from heartbeats; a runner silent for longer is gone. */
const ONLINE_WITHIN_MS = 90_000;

const RunnerParams = z.object({ id: z.uuid() });

export const RunnerSchema = z
  .object({
    id: z.uuid(),
    workspace_id: z.uuid(),
    name: z.string(),
    labels: z.array(z.string()),
    capacity: z.number().int(),
    status: z.enum(['online', 'offline', 'disabled']),
    last_seen_at: z.iso.datetime().nullable(),
    version: z.string().nullable(),
    created_at: z.iso.datetime(),
  })
  .openapi('Runner');

function runnerStatus(row: RunnerRow, now: number): 'online' | 'offline' | 'disabled' {
  if (row.disabledAt) return 'disabled';
  const recent = row.lastSeenAt !== null && now - row.lastSeenAt.getTime() < ONLINE_WITHIN_MS;
  return row.status === 'online' && recent ? 'online' : 'offline';
}

export function toRunner(row: RunnerRow, now = Date.now()) {
  return {
    id: row.id,
    workspace_id: row.workspaceId,
    name: row.name,
    labels: row.labels,
    capacity: row.capacity,
    status: runnerStatus(row, now),
    last_seen_at: iso(row.lastSeenAt),
    version: row.version,
    created_at: row.createdAt.toISOString(),
  };
}

const loadRunner = (c: Context<HonoEnv>, id: string) =>
  loadResource(c, 'Runner', (db) => findRunner(db, id), 'admin');

const runnerRoutes = newRouter();

runnerRoutes.openapi(
  createRoute({
    method: 'patch',
    path: '/{id}',
    tags: ['runners'],
    summary: 'Disable or enable a runner (admin)',
    description:
      'Disabling closes its connection at once; its running jobs are offered to other runners, and it cannot connect again until enabled.',
    request: {
      params: RunnerParams,
      ...jsonBody(z.object({ disabled: z.boolean() }).openapi('UpdateRunner')),
    },
    responses: {
      200: { description: 'Updated', ...json(RunnerSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { disabled } = c.req.valid('json');
    const { access } = await loadRunner(c, id);
    const db = c.get('services').db();
    const updated = await setRunnerDisabled(db, id, disabled, auditFor(c, access));
    if (disabled) {
      await runnerHub(c.env, access.workspaceId).disconnectRunner(id, 'Runner disabled');
    }
    return c.json(toRunner(updated), 200);
  },
);

runnerRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/{id}',
    tags: ['runners'],
    summary: 'Delete a runner (admin); its token stops working and its jobs are offered again',
    request: { params: RunnerParams },
    responses: {
      204: { description: 'Deleted' },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { row, access } = await loadRunner(c, id);
    await deleteRunner(c.get('services').db(), row, auditFor(c, access));
    await runnerHub(c.env, access.workspaceId).disconnectRunner(id, 'Runner deleted');
    return c.body(null, 204);
  },
);

/** `/api/runners/{id}`: a workspace's admins managing one runner. */
export const runnersApp = authenticated(runnerRoutes);
