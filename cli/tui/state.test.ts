import { describe, expect, it } from 'vitest';
import type { Build } from '../tables';
import {
  actionFor,
  buildLines,
  deploymentLines,
  handleKey,
  hints,
  initialState,
  type KeyPress,
  type TuiDeployment,
  type TuiState,
  visibleWindow,
  withData,
} from './state';

const NOW = Date.parse('2026-12-01T12:00:00Z');

function build(number: number, status: string): Build {
  return {
    id: `b${number}`,
    number,
    status,
    trigger: 'push',
    branch: 'main',
    commit_sha: 'abcdef1234567',
    commit_message: `commit ${number}\nbody`,
    created_at: '2026-12-01T11:59:30Z',
    started_at: null,
    finished_at: null,
  };
}

function deployment(id: string, fields: Partial<TuiDeployment> = {}): TuiDeployment {
  return {
    id,
    build_id: 'b1',
    environment_id: 'env-prod',
    status: 'live',
    stage: 'production',
    url: 'http://e2e.localhost',
    created_at: '2026-12-01T11:00:00Z',
    build: { number: 1, commit_sha: 'abc', branch: 'main' },
    environment: { name: 'production' },
    ...fields,
  };
}

const key = (input: string, extra: Omit<KeyPress, 'input'> = {}): KeyPress => ({ input, ...extra });

function loaded(): TuiState {
  return withData(
    initialState(),
    [build(3, 'running'), build(2, 'succeeded'), build(1, 'failed')],
    [
      deployment('d3', { stage: 'preview', environment: { name: 'preview' }, build_id: 'b3' }),
      deployment('d2', { serving: true }),
      deployment('d1', { status: 'retired' }),
    ],
  );
}

describe('terminal UI state', () => {
  it('moves the selection with the arrows (and j/k), within the list', () => {
    let state = loaded();
    state = handleKey(state, key('', { downArrow: true })).state;
    state = handleKey(state, key('j')).state;
    state = handleKey(state, key('j')).state;
    expect(state.selected.builds).toBe(2);
    state = handleKey(state, key('', { upArrow: true })).state;
    expect(state.selected.builds).toBe(1);
    state = handleKey(state, key('k')).state;
    state = handleKey(state, key('k')).state;
    expect(state.selected.builds).toBe(0);
  });

  it('switches panes with Tab and the side arrows; each pane keeps its selection', () => {
    let state = handleKey(loaded(), key('', { downArrow: true })).state;
    state = handleKey(state, key('', { tab: true })).state;
    expect(state.pane).toBe('deployments');
    state = handleKey(state, key('', { downArrow: true })).state;
    state = handleKey(state, key('', { downArrow: true })).state;
    expect(state.selected).toEqual({ builds: 1, deployments: 2 });
    state = handleKey(state, key('', { leftArrow: true })).state;
    expect(state.pane).toBe('builds');
  });

  it('keeps the selection on the same build when a poll adds a newer one', () => {
    let state = handleKey(loaded(), key('', { downArrow: true })).state;
    expect(state.builds[state.selected.builds]!.id).toBe('b2');
    state = withData(state, [build(4, 'queued'), ...state.builds], state.deployments);
    expect(state.builds[state.selected.builds]!.id).toBe('b2');
    // The selected build gone: the index is kept within the list.
    state = withData(state, [build(4, 'queued')], []);
    expect(state.selected).toEqual({ builds: 0, deployments: 0 });
  });

  it('Enter follows the selected build; Esc goes back; q quits from anywhere', () => {
    const followed = handleKey(loaded(), key('', { return: true }));
    expect(followed.effect).toEqual({
      type: 'follow',
      build: expect.objectContaining({ id: 'b3' }),
    });
    expect(followed.state.following?.id).toBe('b3');
    expect(hints(followed.state)).toBe('Esc back  q quit');
    // Keys of the lists do nothing while the log shows.
    expect(handleKey(followed.state, key('c')).state).toBe(followed.state);
    const back = handleKey(followed.state, key('', { escape: true }));
    expect(back.effect).toEqual({ type: 'unfollow' });
    expect(back.state.following).toBeNull();
    expect(handleKey(back.state, key('q')).effect).toEqual({ type: 'quit' });
    expect(handleKey(followed.state, key('q')).effect).toEqual({ type: 'quit' });
  });

  it('Enter on an empty list follows nothing', () => {
    expect(handleKey(initialState(), key('', { return: true })).effect).toBeUndefined();
  });

  it('asks before canceling a build: y runs it, n does not', () => {
    const asked = handleKey(loaded(), key('c'));
    expect(asked.effect).toBeUndefined();
    expect(asked.state.confirm).toMatchObject({ kind: 'cancel-build', target: { id: 'b3' } });
    expect(hints(asked.state)).toBe('Cancel build #3? It stops and deploys nothing. (y/n)');
    // Other keys wait for the answer.
    expect(handleKey(asked.state, key('', { downArrow: true })).state).toBe(asked.state);
    expect(handleKey(asked.state, key('q')).effect).toBeUndefined();
    const yes = handleKey(asked.state, key('y'));
    expect(yes.effect).toEqual({ type: 'run', action: asked.state.confirm });
    expect(yes.state.confirm).toBeNull();
    const no = handleKey(asked.state, key('n'));
    expect(no.effect).toBeUndefined();
    expect(no.state).toMatchObject({ confirm: null, message: { text: 'Not done.' } });
  });

  it('says why a build that ended cannot be canceled', () => {
    const state = handleKey(loaded(), key('', { downArrow: true })).state;
    const refused = handleKey(state, key('c'));
    expect(refused.state.confirm).toBeNull();
    expect(refused.state.message).toEqual({
      text: 'build #2 has already ended',
      error: true,
    });
  });

  it('offers each deployment action only where it applies', () => {
    const deployments = { ...loaded(), pane: 'deployments' as const };
    const at = (index: number) => ({
      ...deployments,
      selected: { builds: 0, deployments: index },
    });
    // d3: a live preview.
    expect(actionFor(at(0), 'p')).toMatchObject({ kind: 'promote', target: { id: 'd3' } });
    expect(actionFor(at(0), 'r')).toMatchObject({ kind: 'redeploy' });
    expect(actionFor(at(0), 'c')).toBe('only a queued deployment can be canceled');
    // d2: what production serves.
    expect(actionFor(at(1), 'p')).toBe('only a live preview deployment can be promoted');
    expect(actionFor(at(1), 'b')).toBe("build #1's deployment is what production serves now");
    // d1: an earlier production deployment.
    expect(actionFor(at(2), 'b')).toMatchObject({
      kind: 'rollback',
      question: "Roll production back to build #1's deployment? It serves it again at once.",
    });
    expect(actionFor(at(2), 'r')).toBe("build #1's deployment is retired: it cannot be redeployed");
    expect(
      actionFor({ ...at(0), deployments: [deployment('q', { status: 'queued' })] }, 'c'),
    ).toMatchObject({ kind: 'cancel-deployment' });
    // Letters of no action, and an empty list.
    expect(actionFor(at(0), 'x')).toBeNull();
    expect(actionFor({ ...at(0), deployments: [] }, 'p')).toBe('no deployment selected');
  });

  it('renders a build and a deployment as one line each', () => {
    expect(buildLines([build(12, 'queued')], NOW)).toEqual([
      '#12    queued     main           abcdef1  30s ago  commit 12',
    ]);
    // Planned (offered to the runners) is still waiting: it reads queued.
    expect(buildLines([build(13, 'planned')], NOW)[0]).toMatch(/^#13 +queued /);
    expect(deploymentLines([deployment('d', { serving: true })], NOW)).toEqual([
      'production * live         #1     1h ago   http://e2e.localhost',
    ]);
  });

  it('scrolls a list so the selected row shows', () => {
    expect(visibleWindow(10, 0, 4)).toEqual({ start: 0, end: 4 });
    expect(visibleWindow(10, 6, 4)).toEqual({ start: 3, end: 7 });
    expect(visibleWindow(2, 1, 4)).toEqual({ start: 0, end: 2 });
    expect(visibleWindow(5, 1, 0)).toEqual({ start: 0, end: 0 });
  });
});
