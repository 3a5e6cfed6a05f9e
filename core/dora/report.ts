import {
  type Band,
  changeFailRateBand,
  deploymentFrequencyBand,
  leadTimeBand,
  recoveryTimeBand,
} from './bands';
import {
  type ClassifiedDeployment,
  classifyDeployments,
  type Failure,
  type Rework,
} from './classify';
import type { DeploymentRecord } from './records';
import type { DoraWindow } from './window';

const DAY_MS = 86_400_000;
/** Up to a month is charted per day, longer windows per week. */
const DAILY_UP_TO_DAYS = 31;

/** One deployment behind the numbers: the drill-down. */
export interface DoraDeploymentRow {
  id: string;
  project_id: string;
  environment_id: string;
  build_id: string;
  commit_sha: string | null;
  commit_message: string | null;
  committed_at: string | null;
  deployed_at: string;
  live_at: string | null;
  status: string;
  lead_time_seconds: number | null;
  failure:
    | (Omit<Failure, 'recoveredAt' | 'fixedBy' | 'recoveredBy'> & {
        fixed_by: string | null;
        recovered_at: string | null;
        recovered_by: string | null;
        recovery_seconds: number | null;
      })
    | null;
  rework: Rework | null;
}

export interface DoraFigures {
  deployments: number;
  lead_time_seconds: number | null;
  change_fail_rate: number | null;
  recovery_seconds: number | null;
  rework_rate: number | null;
}

export interface DoraSeriesPoint extends DoraFigures {
  from: string;
  to: string;
}

export interface DoraReport {
  window: { from: string; to: string; days: number };
  deployment_frequency: {
    deployments: number;
    per_day: number;
    per_week: number;
    band: Band | null;
    deployment_ids: string[];
  };
  change_lead_time: { median_seconds: number | null; band: Band | null; deployment_ids: string[] };
  change_fail_rate: {
    rate: number | null;
    failed: number;
    deployments: number;
    band: Band | null;
    deployment_ids: string[];
  };
  failed_deployment_recovery_time: {
    median_seconds: number | null;
    band: Band | null;
    deployment_ids: string[];
    unrecovered_ids: string[];
  };
  deployment_rework_rate: {
    rate: number | null;
    rework: number;
    deployments: number;
    /** DORA publishes no performance levels for rework rate. */
    band: null;
    deployment_ids: string[];
  };
  deployments: DoraDeploymentRow[];
  series: DoraSeriesPoint[];
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const seconds = (ms: number | null) => (ms === null ? null : Math.round(ms / 1000));
const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);

const recoveryMs = (d: ClassifiedDeployment) =>
  d.failure?.recoveredAt == null ? null : d.failure.recoveredAt - d.deployedAt;

interface Measured {
  values: DoraFigures;
  leadMedianMs: number | null;
  recoveryMedianMs: number | null;
}

function figures(deployments: ClassifiedDeployment[]): Measured {
  const leadTimes = deployments.flatMap((d) => (d.leadTimeMs === null ? [] : [d.leadTimeMs]));
  const recoveries = deployments.flatMap((d) => {
    const ms = recoveryMs(d);
    return ms === null ? [] : [ms];
  });
  const leadMedianMs = median(leadTimes);
  const recoveryMedianMs = median(recoveries);
  return {
    values: {
      deployments: deployments.length,
      lead_time_seconds: seconds(leadMedianMs),
      change_fail_rate: ratio(deployments.filter((d) => d.failure).length, deployments.length),
      recovery_seconds: seconds(recoveryMedianMs),
      rework_rate: ratio(deployments.filter((d) => d.rework).length, deployments.length),
    },
    leadMedianMs,
    recoveryMedianMs,
  };
}

function row(d: ClassifiedDeployment): DoraDeploymentRow {
  const { record, failure } = d;
  return {
    id: record.id,
    project_id: record.projectId,
    environment_id: record.environmentId,
    build_id: record.buildId,
    commit_sha: record.commitSha,
    commit_message: record.commitMessage?.split('\n', 1)[0] ?? null,
    committed_at: iso(record.committedAt),
    deployed_at: iso(d.deployedAt)!,
    live_at: iso(record.liveAt),
    status: record.status,
    lead_time_seconds: seconds(d.leadTimeMs),
    failure: failure && {
      kind: failure.kind,
      recovery: failure.recovery,
      fixed_by: failure.fixedBy,
      recovered_at: iso(failure.recoveredAt),
      recovered_by: failure.recoveredBy,
      recovery_seconds: seconds(recoveryMs(d)),
    },
    rework: d.rework,
  };
}

function series(all: ClassifiedDeployment[], window: DoraWindow): DoraSeriesPoint[] {
  const days = (window.to - window.from) / DAY_MS;
  const step = (days <= DAILY_UP_TO_DAYS ? 1 : 7) * DAY_MS;
  const points: DoraSeriesPoint[] = [];
  for (let from = window.from; from < window.to; from += step) {
    const to = Math.min(from + step, window.to);
    const { values } = figures(all.filter((d) => inside(d, { from, to })));
    points.push({ from: iso(from)!, to: iso(to)!, ...values });
  }
  return points;
}

const inside = (d: ClassifiedDeployment, window: DoraWindow) =>
  d.deployedAt >= window.from && d.deployedAt < window.to;

const ids = (deployments: ClassifiedDeployment[]) => deployments.map((d) => d.record.id);

/**
 * The five DORA metrics of the deployments that reached production in `window` (from included,
 * to excluded). `records` is the whole production history: what happened to a deployment after
 * the window (its rollback, the fix, the recovery) still counts for it.
 */
export function doraReport(records: DeploymentRecord[], window: DoraWindow): DoraReport {
  const all = classifyDeployments(records);
  const inWindow = all.filter((d) => inside(d, window));
  const days = (window.to - window.from) / DAY_MS;
  const { values: total, leadMedianMs, recoveryMedianMs } = figures(inWindow);
  const failed = inWindow.filter((d) => d.failure);
  const rework = inWindow.filter((d) => d.rework);
  const perDay = inWindow.length / days;
  return {
    window: { from: iso(window.from)!, to: iso(window.to)!, days },
    deployment_frequency: {
      deployments: inWindow.length,
      per_day: perDay,
      per_week: perDay * 7,
      band: deploymentFrequencyBand(perDay, inWindow.length),
      deployment_ids: ids(inWindow),
    },
    change_lead_time: {
      median_seconds: total.lead_time_seconds,
      band: leadTimeBand(leadMedianMs),
      deployment_ids: ids(inWindow.filter((d) => d.leadTimeMs !== null)),
    },
    change_fail_rate: {
      rate: total.change_fail_rate,
      failed: failed.length,
      deployments: inWindow.length,
      band: changeFailRateBand(total.change_fail_rate),
      deployment_ids: ids(failed),
    },
    failed_deployment_recovery_time: {
      median_seconds: total.recovery_seconds,
      band: recoveryTimeBand(recoveryMedianMs),
      deployment_ids: ids(failed.filter((d) => recoveryMs(d) !== null)),
      unrecovered_ids: ids(failed.filter((d) => recoveryMs(d) === null)),
    },
    deployment_rework_rate: {
      rate: total.rework_rate,
      rework: rework.length,
      deployments: inWindow.length,
      band: null,
      deployment_ids: ids(rework),
    },
    deployments: inWindow.map(row),
    series: series(all, window),
  };
}
