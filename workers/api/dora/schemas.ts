import { z } from '@hono/zod-openapi';
import { DORA_WINDOWS, type DoraWindowName, resolveWindow } from '../../../core/dora/window';
import { ApiError } from '../../../platform/errors';

const windowNames = Object.keys(DORA_WINDOWS) as [DoraWindowName, ...DoraWindowName[]];

export const DoraQuery = z.object({
  window: z
    .enum(windowNames)
    .optional()
    .openapi({ description: 'The last 7, 30 (the default) or 90 days, up to now' }),
  from: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ description: 'Start of the window (included); with `to`, instead of `window`' }),
  to: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ description: 'End of the window (excluded); at most 366 days after `from`' }),
});

/** The window a request asks for; a 400 naming the problem when it makes none. */
export function requestedWindow(query: z.infer<typeof DoraQuery>, now = Date.now()) {
  const resolved = resolveWindow(query, now);
  if ('problem' in resolved) throw new ApiError('bad_request', resolved.problem);
  return resolved.window;
}

const Band = z.enum(['elite', 'high', 'medium', 'low']).nullable().openapi({
  description: 'DORA performance level (docs/dora.md); null without data to rank',
});
const Ids = z.array(z.uuid());
const Rate = z
  .number()
  .nullable()
  .openapi({ description: 'A share from 0 to 1; null without deployments' });
const Seconds = z.number().int().nullable();

const DoraDeployment = z.object({
  id: z.uuid(),
  project_id: z.uuid(),
  environment_id: z.uuid(),
  build_id: z.uuid(),
  commit_sha: z.string().nullable(),
  commit_message: z.string().nullable().openapi({ description: 'First line' }),
  committed_at: z.iso.datetime().nullable(),
  deployed_at: z.iso.datetime().openapi({
    description: 'When it went live, or began verifying against production if it never did',
  }),
  live_at: z.iso.datetime().nullable(),
  status: z.string(),
  lead_time_seconds: Seconds.openapi({
    description: 'Commit → live, the first time this commit went live in its environment',
  }),
  failure: z
    .object({
      kind: z.enum(['rolled_back', 'failed', 'fixed']),
      recovery: z.enum(['rollback', 'roll_forward']).nullable(),
      fixed_by: z.uuid().nullable(),
      recovered_at: z.iso.datetime().nullable(),
      recovered_by: z.uuid().nullable(),
      recovery_seconds: Seconds,
    })
    .nullable(),
  rework: z
    .object({
      reason: z.enum(['fix_change', 'during_incident']),
      incident: z.uuid().nullable(),
    })
    .nullable(),
});

const Figures = {
  deployments: z.number().int(),
  lead_time_seconds: Seconds,
  change_fail_rate: Rate,
  recovery_seconds: Seconds,
  rework_rate: Rate,
};

export const DoraReportSchema = z
  .object({
    window: z.object({ from: z.iso.datetime(), to: z.iso.datetime(), days: z.number() }),
    deployment_frequency: z.object({
      deployments: z.number().int(),
      per_day: z.number(),
      per_week: z.number(),
      band: Band,
      deployment_ids: Ids,
    }),
    change_lead_time: z.object({ median_seconds: Seconds, band: Band, deployment_ids: Ids }),
    change_fail_rate: z.object({
      rate: Rate,
      failed: z.number().int(),
      deployments: z.number().int(),
      band: Band,
      deployment_ids: Ids,
    }),
    failed_deployment_recovery_time: z.object({
      median_seconds: Seconds,
      band: Band,
      deployment_ids: Ids,
      unrecovered_ids: Ids,
    }),
    deployment_rework_rate: z.object({
      rate: Rate,
      rework: z.number().int(),
      deployments: z.number().int(),
      band: Band.openapi({ description: 'Always null: DORA publishes no levels for rework rate' }),
      deployment_ids: Ids,
    }),
    deployments: z.array(DoraDeployment).openapi({
      description: 'Every production deployment in the window, oldest first: the drill-down',
    }),
    series: z.array(
      z.object({ from: z.iso.datetime(), to: z.iso.datetime(), ...Figures }).openapi({
        description: 'Per day up to 31 days, per week beyond',
      }),
    ),
  })
  .openapi('DoraReport');

export const DORA_DESCRIPTION =
  'The five DORA metrics (deployment frequency, change lead time, change fail rate, failed ' +
  'deployment recovery time, deployment rework rate) of the production deployments in the ' +
  'window, each with the deployments it was computed from and its performance band. How each is ' +
  'inferred from Sparki’s records: docs/dora.md.';
