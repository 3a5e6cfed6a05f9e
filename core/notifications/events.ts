// The events a project's notification targets can subscribe to, and the one JSON shape each is
// sent as: the body of a signed webhook, and what Slack and Discord messages are written from.
// docs/notifications.md describes every field.

export const NOTIFICATION_EVENTS = [
  'build.failed',
  'deployment.live',
  'deployment.rolled_back',
  'runner.offline',
] as const;
export type SubscribableEvent = (typeof NOTIFICATION_EVENTS)[number];

/** `test`: sent on request from the target's settings, to check the receiver. */
export const NOTIFICATION_EVENT_TYPES = [...NOTIFICATION_EVENTS, 'test'] as const;
export type NotificationEventType = (typeof NOTIFICATION_EVENT_TYPES)[number];

export const TARGET_KINDS = ['webhook', 'slack', 'discord'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export interface EventBuild {
  id: string;
  number: number;
  status: string;
  branch: string | null;
  commit_sha: string | null;
  error: string | null;
  url: string;
}

export interface EventDeployment {
  id: string;
  stage: string;
  status: string;
  url: string | null;
  error: string | null;
  build_id: string;
  dashboard_url: string;
}

export interface EventRunner {
  id: string;
  name: string;
  labels: string[];
  last_seen_at: string | null;
}

export interface NotificationEvent {
  /** The same for every delivery of this event (retries, redeliveries): receivers dedupe on it. */
  id: string;
  type: NotificationEventType;
  created_at: string;
  project: { id: string; name: string; slug: string; url: string };
  build?: EventBuild;
  deployment?: EventDeployment;
  /** `deployment.rolled_back`: the deployment serving now. */
  restored?: EventDeployment | null;
  /** `deployment.rolled_back`: whether the deploy engine did it after a failed deployment. */
  automatic?: boolean;
  runner?: EventRunner;
}

/** The dashboard's page for a path on the platform's public URL. */
export function dashboardUrl(publicUrl: string, path: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${path}`;
}
