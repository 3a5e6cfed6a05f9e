import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { StatusBadge } from '../../components/status-badge';
import { Button, Spinner } from '../../components/ui';
import { timeAgo } from '../../lib/format';
import { deliveriesQuery, type NotificationDelivery } from './queries';

/** A target's newest deliveries: outcome, attempts, the receiver's answer, and redelivery. */
export function DeliveryLog({ projectId, targetId }: { projectId: string; targetId: string }) {
  const log = useQuery(deliveriesQuery(projectId, targetId));
  if (log.isPending) return <Spinner label="Loading deliveries" />;
  if (log.error) return <ErrorNotice error={log.error} />;
  if (log.data.deliveries.length === 0) {
    return <p className="text-sm text-muted">Nothing sent yet. Send a test event to try it.</p>;
  }
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm" aria-label="Delivery log">
        <thead className="text-xs text-muted">
          <tr>
            <th className="py-1 pr-3 font-medium">Event</th>
            <th className="py-1 pr-3 font-medium">Status</th>
            <th className="py-1 pr-3 font-medium">Attempts</th>
            <th className="py-1 pr-3 font-medium">Response</th>
            <th className="py-1 pr-3 font-medium">Duration</th>
            <th className="py-1 pr-3 font-medium">When</th>
            <th className="py-1 font-medium">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {log.data.deliveries.map((delivery) => (
            <DeliveryRow
              key={delivery.id}
              projectId={projectId}
              targetId={targetId}
              delivery={delivery}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DeliveryRow({
  projectId,
  targetId,
  delivery,
}: {
  projectId: string;
  targetId: string;
  delivery: NotificationDelivery;
}) {
  const queryClient = useQueryClient();
  const redeliver = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST(
          '/api/projects/{id}/notification-targets/{target_id}/deliveries/{delivery_id}/redeliver',
          { params: { path: { id: projectId, target_id: targetId, delivery_id: delivery.id } } },
        ),
      ),
    onSuccess: () =>
      queryClient.invalidateQueries({
        queryKey: ['notification-deliveries', projectId, targetId],
      }),
  });
  const answer = delivery.response_status ?? delivery.error ?? '—';
  return (
    <tr className="border-t border-line align-top" data-delivery={delivery.id}>
      <td className="py-2 pr-3 font-mono text-xs">
        {delivery.event_type}
        {delivery.redelivery_of && <span className="ml-1 text-muted">(redelivery)</span>}
      </td>
      <td className="py-2 pr-3">
        <StatusBadge status={delivery.status} />
      </td>
      <td className="py-2 pr-3">{delivery.attempts}</td>
      <td className="py-2 pr-3">
        <span>{answer}</span>
        {delivery.response_excerpt && (
          <details>
            <summary className="cursor-pointer text-xs text-muted">Body</summary>
            <pre className="max-w-md overflow-x-auto whitespace-pre-wrap break-all text-xs">
              {delivery.response_excerpt}
            </pre>
          </details>
        )}
      </td>
      <td className="py-2 pr-3">
        {delivery.duration_ms === null ? '—' : `${delivery.duration_ms} ms`}
      </td>
      <td className="py-2 pr-3 whitespace-nowrap">
        {timeAgo(delivery.last_attempt_at ?? delivery.created_at)}
      </td>
      <td className="py-2">
        <Button
          className="px-2 py-1 text-xs"
          onClick={() => redeliver.mutate()}
          disabled={redeliver.isPending || delivery.status === 'pending'}
          aria-label={`Redeliver ${delivery.event_type}`}
        >
          Redeliver
        </Button>
        <ErrorNotice error={redeliver.error} />
      </td>
    </tr>
  );
}
