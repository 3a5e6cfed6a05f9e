import { queryOptions } from '@tanstack/react-query';
import { api, type Schemas, unwrap } from '../../api/client';

export type NotificationTarget = Schemas['NotificationTarget'];
export type NotificationDelivery = Schemas['NotificationDelivery'];
export type SubscribableEvent = NotificationTarget['events'][number];

export const EVENTS: { value: SubscribableEvent; label: string }[] = [
  { value: 'build.failed', label: 'Build failed' },
  { value: 'deployment.live', label: 'Deployment live' },
  { value: 'deployment.rolled_back', label: 'Deployment rolled back' },
  { value: 'runner.offline', label: 'Runner offline' },
];

export const KINDS: { value: NotificationTarget['kind']; label: string }[] = [
  { value: 'webhook', label: 'Signed webhook' },
  { value: 'slack', label: 'Slack' },
  { value: 'discord', label: 'Discord' },
];

/** The delivery log polls while a delivery still has attempts to make. */
export const POLL_MS = 2_000;

export const targetsQuery = (projectId: string) =>
  queryOptions({
    queryKey: ['notification-targets', projectId],
    queryFn: () =>
      unwrap(
        api.GET('/api/projects/{id}/notification-targets', {
          params: { path: { id: projectId } },
        }),
      ),
  });

export const deliveriesQuery = (projectId: string, targetId: string) =>
  queryOptions({
    queryKey: ['notification-deliveries', projectId, targetId],
    queryFn: () =>
      unwrap(
        api.GET('/api/projects/{id}/notification-targets/{target_id}/deliveries', {
          params: { path: { id: projectId, target_id: targetId }, query: { limit: 20 } },
        }),
      ),
    refetchInterval: (query) =>
      query.state.data?.deliveries.some((d) => d.status === 'pending') ? POLL_MS : false,
  });
