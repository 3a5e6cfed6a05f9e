/** Builds that have not reached a runner yet: planned (again), canceled or superseded at once. */
export const WAITING_STATUSES = ['queued', 'planned'] as const;
export const FINISHED_STATUSES = ['succeeded', 'failed', 'canceled', 'timed_out'] as const;
/** Builds not finished: waiting for a runner, or on one. */
export const ACTIVE_STATUSES = [...WAITING_STATUSES, 'running'] as const;
