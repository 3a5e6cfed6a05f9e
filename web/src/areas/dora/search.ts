import type { Schemas } from '../../api/client';

export type DoraReport = Schemas['DoraReport'];
export type DoraWindowName = '7d' | '30d' | '90d';
export const WINDOWS: DoraWindowName[] = ['7d', '30d', '90d'];

/** The window, kept in the URL: a named one, or `from` and `to` (ISO instants) for any other. */
export interface DoraSearch {
  window?: DoraWindowName;
  from?: string;
  to?: string;
}

const instant = (value: unknown) =>
  typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? value : undefined;

export function validateDoraSearch(search: Record<string, unknown>): DoraSearch {
  const from = instant(search.from);
  const to = instant(search.to);
  if (from && to) return { from, to };
  return { window: WINDOWS.find((name) => name === search.window) };
}

/** "2 h 05 m", "35 m", "3 d 4 h": a median duration at a glance. */
export function span(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${String(minutes % 60).padStart(2, '0')} m`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export const rate = (value: number | null | undefined) =>
  value === null || value === undefined ? '—' : `${Math.round(value * 100)} %`;
