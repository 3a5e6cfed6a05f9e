import { describe, expect, it } from 'vitest';
import { admissibleJobs, pickRunner, WORKSPACE_CONCURRENT_BUILDS } from './dispatch';

const job = (buildId: string, projectId: string) => ({ buildId, projectId });
const ids = (jobs: { buildId: string }[]) => jobs.map((j) => j.buildId);

describe('build admission', () => {
  it('limits a workspace by plan: free 1, pro 3, team 10', () => {
    expect(WORKSPACE_CONCURRENT_BUILDS).toEqual({ free: 1, pro: 3, team: 10 });
    const queue = Array.from({ length: 12 }, (_, i) => job(`b${i}`, `p${i}`));
    for (const [plan, limit] of Object.entries(WORKSPACE_CONCURRENT_BUILDS)) {
      const admitted = admissibleJobs({
        queue,
        running: [],
        workspaceLimit: limit,
        projectLimit: () => undefined,
      });
      expect(admitted, plan).toHaveLength(limit);
    }
  });

  it('admits in queue order and counts builds already running', () => {
    const admitted = admissibleJobs({
      queue: [job('b1', 'a'), job('b2', 'b'), job('b3', 'c')],
      running: ['x'],
      workspaceLimit: 3,
      projectLimit: () => undefined,
    });
    expect(ids(admitted)).toEqual(['b1', 'b2']);
  });

  it('admits nothing while the workspace is full', () => {
    expect(
      admissibleJobs({
        queue: [job('b1', 'a')],
        running: ['a', 'b'],
        workspaceLimit: 2,
        projectLimit: () => undefined,
      }),
    ).toEqual([]);
  });

  it('keeps a project to its own cap and lets other projects pass it in the queue', () => {
    const admitted = admissibleJobs({
      queue: [job('a1', 'a'), job('a2', 'a'), job('b1', 'b'), job('a3', 'a')],
      running: [],
      workspaceLimit: 10,
      projectLimit: (projectId) => (projectId === 'a' ? 1 : undefined),
    });
    expect(ids(admitted)).toEqual(['a1', 'b1']);
  });

  it('frees the oldest waiting job of a capped project first', () => {
    const state = {
      queue: [job('a2', 'a'), job('a3', 'a')],
      workspaceLimit: 10,
      projectLimit: () => 1,
    };
    expect(admissibleJobs({ ...state, running: ['a'] })).toEqual([]);
    expect(ids(admissibleJobs({ ...state, running: [] }))).toEqual(['a2']);
  });
});

describe('runner choice', () => {
  const runner = (runnerId: string, capacity = 1, labels: string[] = []) => ({
    runnerId,
    capacity,
    labels,
  });
  const none = new Map<string, number>();

  it('needs every label the job asks for', () => {
    const runners = [
      runner('plain'),
      runner('linux', 1, ['linux']),
      runner('both', 1, ['linux', 'arm']),
    ];
    expect(pickRunner({ labels: [] }, runners, none)?.runnerId).toBe('plain');
    expect(pickRunner({ labels: ['linux'] }, runners, none)?.runnerId).toBe('linux');
    expect(pickRunner({ labels: ['arm', 'linux'] }, runners, none)?.runnerId).toBe('both');
    expect(pickRunner({ labels: ['gpu'] }, runners, none)).toBeUndefined();
  });

  it('skips a runner whose slots are all taken', () => {
    const runners = [runner('a', 2), runner('b', 1)];
    expect(pickRunner({ labels: [] }, runners, new Map([['a', 2]]))?.runnerId).toBe('b');
    expect(
      pickRunner(
        { labels: [] },
        runners,
        new Map([
          ['a', 2],
          ['b', 1],
        ]),
      ),
    ).toBeUndefined();
  });

  it('prefers the runner least loaded for its capacity, the first one among equals', () => {
    const runners = [runner('small', 2), runner('big', 4)];
    const choose = (small: number, big: number) =>
      pickRunner(
        { labels: [] },
        runners,
        new Map([
          ['small', small],
          ['big', big],
        ]),
      )?.runnerId;
    expect(choose(0, 0)).toBe('small');
    expect(choose(1, 0)).toBe('big');
    // 1 of 2 and 2 of 4: equals.
    expect(choose(1, 2)).toBe('small');
    expect(choose(1, 3)).toBe('small');
    expect(choose(2, 3)).toBe('big');
  });
});
