import { z } from 'zod';

export const BUILDS_QUEUE = 'sparki-builds';
export const DEPLOYMENTS_QUEUE = 'sparki-deployments';
export const NOTIFICATIONS_QUEUE = 'sparki-notifications';

export const BuildsMessageSchema = z.discriminatedUnion('type', [
  // `traceparent`: the pipeline run's trace context (optional: messages sent before it existed).
  z.object({
    type: z.literal('build.requested'),
    buildId: z.uuid(),
    traceparent: z.string().max(100).optional(),
  }),
  // The build's status changed: report its current one to the repository (`sparki/build`).
  z.object({ type: z.literal('build.status'), buildId: z.uuid() }),
]);
export type BuildsMessage = z.infer<typeof BuildsMessageSchema>;

/** For the deploy engine: a build finished with its output in R2 (if it produced any). */
export const DeploymentsMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('build.succeeded'),
    build_id: z.uuid(),
    project_id: z.uuid(),
    target: z.enum(['production', 'preview']),
    artifact_key: z.string().nullable(),
    // The build's trace context (the runner's result call): its deployment continues the trace.
    traceparent: z.string().max(100).optional(),
  }),
  // A deployment was queued by the API (deploy, promote, rollback): run the environment's queue.
  z.object({ type: z.literal('deployment.requested'), environment_id: z.uuid() }),
]);
export type DeploymentsMessage = z.infer<typeof DeploymentsMessageSchema>;

/** One delivery of a notification to one target (`notification_deliveries`), sent or retried. */
export const NotificationsMessageSchema = z.object({
  type: z.literal('notification.deliver'),
  delivery_id: z.uuid(),
});
export type NotificationsMessage = z.infer<typeof NotificationsMessageSchema>;
