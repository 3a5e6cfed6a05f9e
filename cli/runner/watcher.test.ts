import { describe, expect, it } from 'vitest';
import type { RunnerMessage } from '../../core/runner-protocol';
import { RepoWatcher } from './watcher';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const PROJECT = '11111111-1111-4111-8111-111111111111';

function setup() {
  const sent: RunnerMessage[] = [];
  const logs: string[] = [];
  let output = `${A}\trefs/heads/main\n`;
  let fail: string | undefined;
  let calls = 0;
  const watcher = new RepoWatcher({
    send: (message) => {
      sent.push(message);
      return true;
    },
    log: (message) => logs.push(message),
    lsRemote: async () => {
      calls++;
      if (fail) throw new Error(fail);
      return output;
    },
  });
  return {
    watcher,
    sent,
    logs,
    calls: () => calls,
    set: (text: string) => {
      output = text;
    },
    failWith: (message: string | undefined) => {
      fail = message;
    },
  };
}

/** Lets the poll that `watch` starts finish. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

const repo = { project_id: PROJECT, repo_url: '/srv/site', interval_ms: 3_600_000 };

describe('RepoWatcher', () => {
  it('reports the heads when it starts watching, then only what the hub has not recorded', async () => {
    const t = setup();
    t.watcher.watch([repo]);
    await settle();
    expect(t.sent).toEqual([
      { type: 'heads', project_id: PROJECT, heads: [{ branch: 'main', sha: A }] },
    ]);
    // Unanswered: sent again.
    await t.watcher.poll(PROJECT);
    expect(t.sent).toHaveLength(2);
    t.watcher.recorded(PROJECT);
    await t.watcher.poll(PROJECT);
    expect(t.sent).toHaveLength(2);
    t.set(`${B}\trefs/heads/main\n${A}\trefs/heads/next\n`);
    await t.watcher.poll(PROJECT);
    expect(t.sent.at(-1)).toEqual({
      type: 'heads',
      project_id: PROJECT,
      heads: [
        { branch: 'main', sha: B },
        { branch: 'next', sha: A },
      ],
    });
    t.watcher.stop();
  });

  it('says once why a poll fails, and forgets repositories no longer watched', async () => {
    const t = setup();
    t.failWith('fatal: not a git repository');
    t.watcher.watch([repo]);
    await settle();
    await t.watcher.poll(PROJECT);
    expect(t.logs.filter((line) => line.includes('failed'))).toEqual([
      'polling /srv/site failed: fatal: not a git repository',
    ]);
    expect(t.sent).toEqual([]);
    t.watcher.watch([]);
    expect(t.watcher.watched()).toEqual([]);
    const before = t.calls();
    await t.watcher.poll(PROJECT);
    expect(t.calls()).toBe(before);
  });

  it('keeps a repository whose entry did not change, and restarts one that did', async () => {
    const t = setup();
    t.watcher.watch([repo]);
    await settle();
    const calls = t.calls();
    t.watcher.watch([repo]);
    expect(t.calls()).toBe(calls);
    t.watcher.watch([{ ...repo, interval_ms: 10_000 }]);
    await settle();
    expect(t.calls()).toBeGreaterThan(calls);
    t.watcher.stop();
  });
});
