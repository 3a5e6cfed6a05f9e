import { createRoute, z } from '@hono/zod-openapi';
import { WORKSPACE_CONCURRENT_BUILDS } from '../../../core/dispatch';
import { API_QUOTA_PER_MINUTE } from '../../../core/rate-limits';
import { workspaceUsage } from '../../../domain/workspaces/usage';
import { findWorkspace } from '../../../domain/workspaces/workspaces';
import { ApiError } from '../../../platform/errors';
import { authorizeWorkspace } from '../../auth/authorize';
import { openApiErrorResponses } from '../../errors';
import { json } from '../../openapi';
import { newRouter } from '../../router';
import { WorkspaceParams } from './members';

const UsageSchema = z
  .object({
    plan: z.enum(['free', 'pro', 'team']),
    period_start: z.iso.datetime().openapi({
      description: 'Start of the current calendar month (UTC); the monthly figures count from it',
    }),
    limits: z.object({
      concurrent_builds: z.number().int().openapi({
        description: 'Builds that run at once; the rest wait in the queue',
      }),
      api_requests_per_minute: z.number().int().openapi({
        description: 'Requests per minute for each personal access token',
      }),
    }),
    usage: z.object({
      builds_this_month: z.number().int(),
      build_seconds_this_month: z.number().int().openapi({
        description: "Runner time of this month's builds (a running build counts up to now)",
      }),
      deployments_this_month: z.number().int(),
      running_builds: z.number().int(),
      projects: z.number().int(),
      members: z.number().int(),
      pending_invites: z.number().int(),
      runners: z.number().int(),
    }),
  })
  .openapi('WorkspaceUsage');

/** `/api/workspaces/{id}/usage`: the plan's limits and what the workspace uses of them. */
export const usageRoutes = newRouter();

usageRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/usage',
    tags: ['workspaces'],
    summary: "The workspace's plan, its limits and the current usage (viewer)",
    request: { params: WorkspaceParams },
    responses: {
      200: { description: 'Plan and usage', ...json(UsageSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await authorizeWorkspace(c, id, 'viewer');
    const db = c.get('services').db();
    const workspace = await findWorkspace(db, id);
    if (!workspace) throw new ApiError('not_found', 'Workspace not found');
    const usage = await workspaceUsage(db, id);
    return c.json(
      {
        plan: workspace.plan,
        period_start: usage.periodStart.toISOString(),
        limits: {
          concurrent_builds: WORKSPACE_CONCURRENT_BUILDS[workspace.plan],
          api_requests_per_minute: API_QUOTA_PER_MINUTE[workspace.plan],
        },
        usage: {
          builds_this_month: usage.buildsThisMonth,
          build_seconds_this_month: Math.round(usage.buildMsThisMonth / 1000),
          deployments_this_month: usage.deploymentsThisMonth,
          running_builds: usage.runningBuilds,
          projects: usage.projects,
          members: usage.members,
          pending_invites: usage.pendingInvites,
          runners: usage.runners,
        },
      },
      200,
    );
  },
);
