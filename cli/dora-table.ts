import type { DoraReport } from '../core/dora/report';

/** A duration as a person reads it: `45s`, `35m`, `2h 5m`, `3d 4h`. */
export function duration(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

export const percent = (rate: number | null) =>
  rate === null ? '-' : `${Math.round(rate * 100)}%`;

/** The five metrics as rows: metric, value, what it was computed from, band. */
export function doraRows(report: DoraReport): string[][] {
  const f = report.deployment_frequency;
  const cfr = report.change_fail_rate;
  const recovery = report.failed_deployment_recovery_time;
  const rework = report.deployment_rework_rate;
  const lead = report.change_lead_time;
  const perDay = f.per_day.toFixed(2);
  return [
    ['METRIC', 'VALUE', 'FROM', 'BAND'],
    ['Deployment frequency', `${perDay}/day`, `${f.deployments} deployments`, f.band ?? '-'],
    [
      'Change lead time',
      duration(lead.median_seconds),
      `median of ${lead.deployment_ids.length} changes`,
      lead.band ?? '-',
    ],
    ['Change fail rate', percent(cfr.rate), `${cfr.failed} of ${cfr.deployments}`, cfr.band ?? '-'],
    [
      'Failed deployment recovery time',
      duration(recovery.median_seconds),
      `median of ${recovery.deployment_ids.length} ${recovery.deployment_ids.length === 1 ? 'recovery' : 'recoveries'}` +
        (recovery.unrecovered_ids.length ? `, ${recovery.unrecovered_ids.length} open` : ''),
      recovery.band ?? '-',
    ],
    [
      'Deployment rework rate',
      percent(rework.rate),
      `${rework.rework} of ${rework.deployments}`,
      '-',
    ],
  ];
}
