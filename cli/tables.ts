import { paint } from './output';

/** The fields of the API's builds, deployments and runners the CLI's tables show. */
export interface Build {
  id: string;
  number: number;
  status: string;
  trigger: string;
  branch: string | null;
  commit_sha: string | null;
  commit_message: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface Deployment {
  id: string;
  status: string;
  stage: string;
  url: string | null;
  created_at: string;
  serving?: boolean;
  build?: { number: number; commit_sha: string | null; branch: string | null };
  environment?: { name: string };
}

export interface Runner {
  id: string;
  name: string;
  status: string;
  labels: string[];
  capacity: number;
  running_builds: number;
  version: string | null;
  last_seen_at: string | null;
}

const GOOD = new Set(['succeeded', 'live', 'online']);
const BAD = new Set(['failed', 'timed_out', 'canceled', 'rolled_back', 'offline']);

export function statusText(status: string): string {
  if (GOOD.has(status)) return paint('green', status);
  if (BAD.has(status)) return paint('red', status);
  return paint('yellow', status);
}

/** `5s ago`, `3m ago`, `2h ago`, `4d ago`. */
export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return '-';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

const short = (sha: string | null) => (sha ? sha.slice(0, 7) : '-');
const firstLine = (text: string | null, max = 50) => {
  const line = (text ?? '').split('\n')[0]!;
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

/** Header first, then one row per build. Status cells may hold colour codes on a terminal. */
export function buildRows(builds: readonly Build[], now = Date.now()): string[][] {
  return [
    ['BUILD', 'STATUS', 'BRANCH', 'COMMIT', 'CREATED', 'ID', 'MESSAGE'],
    ...builds.map((b) => [
      `#${b.number}`,
      statusText(b.status),
      b.branch ?? '-',
      short(b.commit_sha),
      ago(b.created_at, now),
      b.id,
      firstLine(b.commit_message),
    ]),
  ];
}

export function deploymentRows(deployments: readonly Deployment[], now = Date.now()): string[][] {
  return [
    ['ID', 'ENVIRONMENT', 'STATUS', 'BUILD', 'CREATED', 'URL'],
    ...deployments.map((d) => [
      d.id,
      `${d.environment?.name ?? d.stage}${d.serving ? ' *' : ''}`,
      statusText(d.status),
      d.build ? `#${d.build.number} ${short(d.build.commit_sha)}` : '-',
      ago(d.created_at, now),
      d.url ?? '-',
    ]),
  ];
}

export function runnerRows(runners: readonly Runner[], now = Date.now()): string[][] {
  return [
    ['NAME', 'STATUS', 'BUILDS', 'LABELS', 'VERSION', 'SEEN', 'ID'],
    ...runners.map((r) => [
      r.name,
      statusText(r.status),
      `${r.running_builds}/${r.capacity}`,
      r.labels.join(',') || '-',
      r.version ?? '-',
      ago(r.last_seen_at, now),
      r.id,
    ]),
  ];
}
