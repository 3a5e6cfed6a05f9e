const TONE: Record<string, string> = {
  success: 'bg-ok/15 text-ok',
  succeeded: 'bg-ok/15 text-ok',
  live: 'bg-ok/15 text-ok',
  ready: 'bg-ok/15 text-ok',
  online: 'bg-ok/15 text-ok',
  failed: 'bg-danger/15 text-danger',
  error: 'bg-danger/15 text-danger',
  rolled_back: 'bg-warn/15 text-warn',
  cancelled: 'bg-muted/15 text-muted',
  canceled: 'bg-muted/15 text-muted',
  timed_out: 'bg-danger/15 text-danger',
  offline: 'bg-muted/15 text-muted',
};

/** A build's, deployment's or runner's status; anything in progress reads as running. */
export function StatusBadge({ status }: { status: string }) {
  const tone = TONE[status] ?? 'bg-accent/15 text-accent';
  return (
    <span
      className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ${tone}`}
    >
      {status.replaceAll('_', ' ')}
    </span>
  );
}
