import { pgEnum } from 'drizzle-orm/pg-core';
import { DEPLOYMENT_STATES } from '../../core/deploy/state-machine';
import { NOTIFICATION_EVENT_TYPES, TARGET_KINDS } from '../../core/notifications/events';
import { SPAN_KINDS, SPAN_STATUS_CODES } from '../../core/trace/span';
import { BUILD_PHASES } from '../../core/trace/timeline';

// All enums live here so table modules, which import each other for foreign keys, never read
// an enum from a module that is still being evaluated.

export const workspacePlan = pgEnum('workspace_plan', ['free', 'pro', 'team']);

export const workspaceRole = pgEnum('workspace_role', ['owner', 'admin', 'developer', 'viewer']);

export const gitProvider = pgEnum('git_provider', ['github', 'gitlab', 'gitea', 'none']);

export const environmentKind = pgEnum('environment_kind', ['production', 'preview']);

export const buildTrigger = pgEnum('build_trigger', [
  'push',
  'pull_request',
  'tag',
  'manual',
  'retry',
  'api',
]);

export const buildStatus = pgEnum('build_status', [
  'queued',
  'planned',
  'running',
  'succeeded',
  'failed',
  'canceled',
  'timed_out',
]);

export const buildStepStatus = pgEnum('build_step_status', [
  'pending',
  'running',
  'succeeded',
  'failed',
  'skipped',
  'canceled',
]);

export const deploymentStage = pgEnum('deployment_stage', ['preview', 'production']);

export const deploymentStrategy = pgEnum('deployment_strategy', [
  'all_at_once',
  'blue_green',
  'canary',
]);

export const deploymentStatus = pgEnum('deployment_status', DEPLOYMENT_STATES);

// `poll`: a branch head a runner's poll of a repository found (core/repo-polling.ts).
export const webhookProvider = pgEnum('webhook_provider', ['github', 'gitlab', 'gitea', 'poll']);

export const webhookDeliveryStatus = pgEnum('webhook_delivery_status', [
  'received',
  'processed',
  'ignored',
  'rejected',
  'failed',
]);

export const runnerStatus = pgEnum('runner_status', ['online', 'offline', 'disabled']);

export const idempotencyStatus = pgEnum('idempotency_status', ['in_progress', 'completed']);

export const auditResult = pgEnum('audit_result', ['success', 'failure', 'denied']);

export const emailTokenPurpose = pgEnum('email_token_purpose', ['verify_email', 'reset_password']);

export const wsTicketPurpose = pgEnum('ws_ticket_purpose', ['build-logs']);

export const deviceGrantStatus = pgEnum('device_grant_status', [
  'pending',
  'approved',
  'denied',
  'consumed',
]);

export const notificationTargetKind = pgEnum('notification_target_kind', TARGET_KINDS);

export const notificationEvent = pgEnum('notification_event', NOTIFICATION_EVENT_TYPES);

export const notificationDeliveryStatus = pgEnum('notification_delivery_status', [
  'pending',
  'succeeded',
  'failed',
]);

export const buildPhase = pgEnum('build_phase', BUILD_PHASES);

export const spanKind = pgEnum('span_kind', SPAN_KINDS);

export const spanStatusCode = pgEnum('span_status_code', SPAN_STATUS_CODES);
