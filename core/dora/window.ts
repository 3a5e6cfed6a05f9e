/** The windows the API and the CLI name; any other span is given with `from` and `to`. */
export const DORA_WINDOWS = { '7d': 7, '30d': 30, '90d': 90 } as const;
export type DoraWindowName = keyof typeof DORA_WINDOWS;

export const DEFAULT_DORA_WINDOW: DoraWindowName = '30d';
/** A longer span would read a year of history per request; a year is what a review looks at. */
export const MAX_DORA_WINDOW_DAYS = 366;

const DAY_MS = 86_400_000;

export interface DoraWindow {
  from: number;
  to: number;
}

export interface WindowQuery {
  window?: DoraWindowName;
  from?: string;
  to?: string;
}

/** The window asked for, or why it cannot be used (a 400 for the API, a usage error for the CLI). */
export function resolveWindow(
  query: WindowQuery,
  now: number,
): { window: DoraWindow } | { problem: string } {
  if (query.window && (query.from || query.to)) {
    return { problem: 'Give either window or from and to, not both' };
  }
  if (!query.from && !query.to) {
    const days = DORA_WINDOWS[query.window ?? DEFAULT_DORA_WINDOW];
    return { window: { from: now - days * DAY_MS, to: now } };
  }
  if (!query.from || !query.to) return { problem: 'from and to go together' };
  const from = Date.parse(query.from);
  const to = Date.parse(query.to);
  if (Number.isNaN(from) || Number.isNaN(to)) return { problem: 'from and to must be dates' };
  if (from >= to) return { problem: 'from must be before to' };
  if (to - from > MAX_DORA_WINDOW_DAYS * DAY_MS) {
    return { problem: `A window spans at most ${MAX_DORA_WINDOW_DAYS} days` };
  }
  return { window: { from, to } };
}
