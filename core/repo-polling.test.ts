import { describe, expect, it } from 'vitest';
import {
  assignedRunner,
  DEFAULT_LOCAL_POLL_INTERVAL_SECONDS,
  diffHeads,
  isPrivateRepoUrl,
  PollIntervalSchema,
  parseLsRemote,
  pollInterval,
} from './repo-polling';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(64);

describe('parseLsRemote', () => {
  it('reads branch heads and sorts them, skipping tags, HEAD and what is not a head', () => {
    const output = [
      `${B}\trefs/heads/main`,
      `${A}\trefs/heads/feature/x`,
      `${A}\tHEAD`,
      `${A}\trefs/tags/v1`,
      `${C.toUpperCase()}\trefs/heads/sha256`,
      'abc\trefs/heads/short-sha',
      `${A}\trefs/heads/-leading-dash`,
      `${A}\trefs/heads/bad..name`,
      'warning: something',
      '',
    ].join('\n');
    expect(parseLsRemote(output)).toEqual([
      { branch: 'feature/x', sha: A },
      { branch: 'main', sha: B },
      { branch: 'sha256', sha: C },
    ]);
  });

  it('takes CRLF line ends and empty output', () => {
    expect(parseLsRemote(`${A}\trefs/heads/main\r\n`)).toEqual([{ branch: 'main', sha: A }]);
    expect(parseLsRemote('')).toEqual([]);
  });
});

describe('diffHeads', () => {
  it('finds new, moved and deleted branches', () => {
    const before = [
      { branch: 'main', sha: A },
      { branch: 'old', sha: A },
      { branch: 'same', sha: B },
    ];
    const after = [
      { branch: 'main', sha: B },
      { branch: 'new', sha: A },
      { branch: 'same', sha: B },
    ];
    expect(diffHeads(before, after)).toEqual({
      moved: [
        { branch: 'main', sha: B },
        { branch: 'new', sha: A },
      ],
      deleted: [{ branch: 'old', sha: A }],
    });
    expect(diffHeads(after, after)).toEqual({ moved: [], deleted: [] });
  });
});

describe('isPrivateRepoUrl', () => {
  it.each([
    '/home/me/site',
    'file:///home/me/site',
    'http://localhost:3000/me/site.git',
    'ssh://git@192.168.1.10/site.git',
    'git@10.0.0.5:me/site.git',
    'https://172.20.1.1/site.git',
    'https://gitea.lan/me/site.git',
    'https://nas.local/site.git',
    'git://gitserver/site.git',
    'http://[::1]/site.git',
  ])('%s is only reachable nearby', (url) => expect(isPrivateRepoUrl(url)).toBe(true));

  it.each([
    'https://github.com/acme/site.git',
    'git@github.com:acme/site.git',
    'https://172.32.0.1/site.git',
    'https://8.8.8.8/site.git',
    'not a url',
  ])('%s is public', (url) => expect(isPrivateRepoUrl(url)).toBe(false));
});

describe('pollInterval', () => {
  it('defaults to polling a local repository without a webhook provider', () => {
    expect(pollInterval({ repoUrl: '/srv/site', gitProvider: 'none' })).toBe(
      DEFAULT_LOCAL_POLL_INTERVAL_SECONDS,
    );
    expect(pollInterval({ repoUrl: '/srv/site', gitProvider: 'github' })).toBeNull();
    expect(pollInterval({ repoUrl: 'https://github.com/a/b', gitProvider: 'none' })).toBeNull();
    expect(
      pollInterval({ repoUrl: null, gitProvider: 'none', pollIntervalSeconds: 10 }),
    ).toBeNull();
  });

  it('takes the setting: 0 is off, a number is the interval', () => {
    expect(
      pollInterval({ repoUrl: '/srv/site', gitProvider: 'none', pollIntervalSeconds: 0 }),
    ).toBeNull();
    expect(
      pollInterval({
        repoUrl: 'https://github.com/a/b',
        gitProvider: 'github',
        pollIntervalSeconds: 60,
      }),
    ).toBe(60);
  });

  it('accepts 0 or 5 seconds to a day', () => {
    expect(PollIntervalSchema.safeParse(0).success).toBe(true);
    expect(PollIntervalSchema.safeParse(5).success).toBe(true);
    expect(PollIntervalSchema.safeParse(4).success).toBe(false);
    expect(PollIntervalSchema.safeParse(86_401).success).toBe(false);
    expect(PollIntervalSchema.safeParse(1.5).success).toBe(false);
  });
});

describe('assignedRunner', () => {
  const runners = ['r1', 'r2', 'r3'].map((name) => `00000000-0000-4000-8000-00000000000${name[1]}`);
  const projects = Array.from({ length: 60 }, (_, i) => `project-${i}`);

  it('gives each project one runner, the same whatever the order, spread over all', () => {
    const owners = projects.map((project) => assignedRunner(project, runners));
    expect(projects.map((project) => assignedRunner(project, [...runners].reverse()))).toEqual(
      owners,
    );
    expect(new Set(owners)).toEqual(new Set(runners));
    expect(assignedRunner('p', [])).toBeUndefined();
  });

  it('moves only the projects of a runner that leaves', () => {
    const before = projects.map((project) => assignedRunner(project, runners));
    const after = projects.map((project) => assignedRunner(project, runners.slice(0, 2)));
    projects.forEach((_, i) => {
      if (before[i] !== runners[2]) expect(after[i]).toBe(before[i]);
      else expect(runners.slice(0, 2)).toContain(after[i]);
    });
  });
});
