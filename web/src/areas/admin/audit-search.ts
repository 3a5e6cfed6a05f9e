import type { Schemas } from '../../api/client';

export type Result = Schemas['AuditEntry']['result'];
export const RESULTS: Result[] = ['success', 'failure', 'denied'];

/** The filters, kept in the URL so a filtered view can be shared or reloaded. */
export interface AuditSearch {
  action?: string;
  actor_id?: string;
  result?: Result;
  /** Calendar days (YYYY-MM-DD) in the reader's time zone, both included. */
  from?: string;
  to?: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
export const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined);

/** The route's `validateSearch`: whatever the URL holds, only well-formed filters. */
export function validateAuditSearch(search: Record<string, unknown>): AuditSearch {
  return {
    action: text(search.action),
    actor_id: text(search.actor_id),
    result: RESULTS.find((result) => result === search.result),
    from: DAY.test(String(search.from)) ? String(search.from) : undefined,
    to: DAY.test(String(search.to)) ? String(search.to) : undefined,
  };
}

/** The API's query for the filters: local days become instants, `to` up to the next midnight. */
export function auditQuery(search: AuditSearch) {
  const day = (value: string, plusDays = 0) => {
    const [year, month, date] = value.split('-').map(Number);
    return new Date(year!, month! - 1, date! + plusDays).toISOString();
  };
  return {
    action: search.action,
    actor_id: search.actor_id,
    result: search.result,
    since: search.from ? day(search.from) : undefined,
    until: search.to ? day(search.to, 1) : undefined,
  };
}
