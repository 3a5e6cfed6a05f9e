import { ago, type Build, type Deployment } from '../tables';

/**
 * The terminal UI's pure state: what is listed, which row is selected, the confirmation line and
 * what a key does. No I/O here: `handleKey` returns the next state and the effect to run, so every
 * key is unit-tested (cli/tui/state.test.ts) and cli/tui/app.ts only renders and runs effects.
 */

export type Pane = 'builds' | 'deployments';

/** A deployment as the list endpoint returns it (the table's fields plus the ids actions need). */
export interface TuiDeployment extends Deployment {
  build_id: string;
  environment_id: string;
}

export type ActionKind = 'cancel-build' | 'cancel-deployment' | 'redeploy' | 'promote' | 'rollback';

export interface PendingAction {
  kind: ActionKind;
  /** The build or deployment acted on. */
  target: Build | TuiDeployment;
  question: string;
}

export interface TuiState {
  builds: Build[];
  deployments: TuiDeployment[];
  pane: Pane;
  selected: Record<Pane, number>;
  /** The build whose live log is shown, or null for the lists. */
  following: Build | null;
  confirm: PendingAction | null;
  /** The last action's result or error, shown on the status line. */
  message: { text: string; error: boolean } | null;
}

/** The keys Ink reports that the UI uses. */
export interface KeyPress {
  input: string;
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  tab?: boolean;
  return?: boolean;
  escape?: boolean;
}

export type Effect =
  | { type: 'quit' }
  | { type: 'follow'; build: Build }
  | { type: 'unfollow' }
  | { type: 'run'; action: PendingAction };

export interface Transition {
  state: TuiState;
  effect?: Effect;
}

export function initialState(): TuiState {
  return {
    builds: [],
    deployments: [],
    pane: 'builds',
    selected: { builds: 0, deployments: 0 },
    following: null,
    confirm: null,
    message: null,
  };
}

const clamp = (index: number, length: number) => Math.max(0, Math.min(index, length - 1));

/** New lists from a poll; the selection stays on the same build or deployment when it can. */
export function withData(state: TuiState, builds: Build[], deployments: TuiDeployment[]): TuiState {
  const keep = <T extends { id: string }>(old: T[], fresh: T[], index: number) => {
    const id = old[index]?.id;
    const found = id ? fresh.findIndex((row) => row.id === id) : -1;
    return found >= 0 ? found : clamp(index, fresh.length);
  };
  return {
    ...state,
    builds,
    deployments,
    selected: {
      builds: keep(state.builds, builds, state.selected.builds),
      deployments: keep(state.deployments, deployments, state.selected.deployments),
    },
  };
}

export function selectedBuild(state: TuiState): Build | undefined {
  return state.builds[state.selected.builds];
}

export function selectedDeployment(state: TuiState): TuiDeployment | undefined {
  return state.deployments[state.selected.deployments];
}

const BUILD_DONE = new Set(['succeeded', 'failed', 'canceled', 'timed_out']);
const DEPLOYMENT_BUSY = new Set(['queued', 'validating', 'deploying', 'verifying']);

const deploymentName = (d: TuiDeployment) =>
  d.build ? `build #${d.build.number}'s deployment` : `deployment ${d.id.slice(0, 8)}`;
const envName = (d: TuiDeployment) => d.environment?.name ?? d.stage;

/** The action a letter asks for on the selected row, or a reason it does not apply. */
export function actionFor(state: TuiState, letter: string): PendingAction | string | null {
  if (state.pane === 'builds') {
    const build = selectedBuild(state);
    if (letter !== 'c') return null;
    if (!build) return 'no build selected';
    if (BUILD_DONE.has(build.status)) return `build #${build.number} has already ended`;
    return {
      kind: 'cancel-build',
      target: build,
      question: `Cancel build #${build.number}? It stops and deploys nothing.`,
    };
  }
  const d = selectedDeployment(state);
  if (!['c', 'r', 'p', 'b'].includes(letter)) return null;
  if (!d) return 'no deployment selected';
  const name = deploymentName(d);
  const env = envName(d);
  switch (letter) {
    case 'c':
      if (d.status !== 'queued') return 'only a queued deployment can be canceled';
      return {
        kind: 'cancel-deployment',
        target: d,
        question: `Cancel ${name}? ${env} keeps serving what it serves now.`,
      };
    case 'r':
      if (DEPLOYMENT_BUSY.has(d.status) || d.status === 'retired') {
        return `${name} is ${d.status}: it cannot be redeployed`;
      }
      return {
        kind: 'redeploy',
        target: d,
        question: `Redeploy ${name} to ${env}? A new deployment starts; ${env} serves the current one until it is live.`,
      };
    case 'p':
      if (d.stage !== 'preview' || d.status !== 'live') {
        return 'only a live preview deployment can be promoted';
      }
      return {
        kind: 'promote',
        target: d,
        question: `Promote ${name} to production? Production serves it without a rebuild.`,
      };
    default:
      if (d.serving || d.status === 'live') return `${name} is what ${env} serves now`;
      if (!['retired', 'rolled_back'].includes(d.status)) {
        return `${name} is ${d.status}: only an earlier live deployment can be rolled back to`;
      }
      return {
        kind: 'rollback',
        target: d,
        question: `Roll ${env} back to ${name}? It serves it again at once.`,
      };
  }
}

/** What a key does: the next state and, maybe, an effect for the app to run. */
export function handleKey(state: TuiState, key: KeyPress): Transition {
  if (state.confirm) {
    if (key.input === 'y' || key.input === 'Y') {
      return { state: { ...state, confirm: null }, effect: { type: 'run', action: state.confirm } };
    }
    if (key.input === 'n' || key.input === 'N' || key.escape || key.input === 'q') {
      return { state: { ...state, confirm: null, message: { text: 'Not done.', error: false } } };
    }
    return { state }; // the question waits for y or n
  }
  if (state.following) {
    if (key.escape || key.leftArrow) {
      return { state: { ...state, following: null }, effect: { type: 'unfollow' } };
    }
    if (key.input === 'q') return { state, effect: { type: 'quit' } };
    return { state };
  }
  if (key.input === 'q') return { state, effect: { type: 'quit' } };
  if (key.tab || key.leftArrow || key.rightArrow) {
    const pane: Pane = state.pane === 'builds' ? 'deployments' : 'builds';
    return { state: { ...state, pane, message: null } };
  }
  if (key.upArrow || key.downArrow || key.input === 'k' || key.input === 'j') {
    const length = state.pane === 'builds' ? state.builds.length : state.deployments.length;
    const step = key.upArrow || key.input === 'k' ? -1 : 1;
    const index = clamp(state.selected[state.pane] + step, length);
    return { state: { ...state, selected: { ...state.selected, [state.pane]: index } } };
  }
  if (key.return && state.pane === 'builds') {
    const build = selectedBuild(state);
    if (!build) return { state };
    return {
      state: { ...state, following: build, message: null },
      effect: { type: 'follow', build },
    };
  }
  const action = actionFor(state, key.input);
  if (action === null) return { state };
  if (typeof action === 'string') {
    return { state: { ...state, message: { text: action, error: true } } };
  }
  return { state: { ...state, confirm: action, message: null } };
}

const firstLine = (text: string | null, max: number) => {
  const line = (text ?? '').split('\n')[0]!;
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

/**
 * A build's status as the list shows it: `planned` (offered to the runners, none has taken it
 * yet) is still waiting in the queue for the person watching, so it reads `queued`.
 */
export const buildStatusLabel = (status: string) => (status === 'planned' ? 'queued' : status);

/** One plain-text row per build (the selected one is marked by the renderer). */
export function buildLines(builds: readonly Build[], now = Date.now()): string[] {
  return builds.map((b) =>
    [
      `#${b.number}`.padEnd(6),
      buildStatusLabel(b.status).padEnd(10),
      (b.branch ?? '-').padEnd(14),
      (b.commit_sha ?? '-').slice(0, 7).padEnd(8),
      ago(b.created_at, now).padEnd(8),
      firstLine(b.commit_message, 40),
    ]
      .join(' ')
      .trimEnd(),
  );
}

export function deploymentLines(deployments: readonly TuiDeployment[], now = Date.now()): string[] {
  return deployments.map((d) =>
    [
      `${envName(d)}${d.serving ? ' *' : ''}`.padEnd(12),
      d.status.padEnd(12),
      (d.build ? `#${d.build.number}` : '-').padEnd(6),
      ago(d.created_at, now).padEnd(8),
      d.url ?? '-',
    ]
      .join(' ')
      .trimEnd(),
  );
}

/** The help line of what the keys do where the user is. */
export function hints(state: TuiState): string {
  if (state.confirm) return `${state.confirm.question} (y/n)`;
  if (state.following) return 'Esc back  q quit';
  if (state.pane === 'builds') return '↑↓ select  Enter log  c cancel  Tab deployments  q quit';
  return '↑↓ select  c cancel  r redeploy  p promote  b roll back  Tab builds  q quit';
}

/** The rows of a list that fit `height`, scrolled so the selected row shows. */
export function visibleWindow(length: number, selected: number, height: number) {
  if (height <= 0) return { start: 0, end: 0 };
  const start = Math.max(0, selected - height + 1);
  return { start, end: Math.min(length, start + height) };
}
