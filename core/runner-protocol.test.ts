import { describe, expect, it } from 'vitest';
import { CommitReportSchema, JobSpecSchema, LogBatchSchema } from './runner-protocol';

const line = { stream: 'stdout', text: 'hello', ts: 1 } as const;

describe('log batches', () => {
  it('carry an optional batch number from 1, for the platform to spot a retried batch', () => {
    expect(LogBatchSchema.parse({ batch_seq: 1, lines: [line] })).toEqual({
      batch_seq: 1,
      lines: [line],
    });
    // Runners that predate the number still send batches the platform accepts.
    expect(LogBatchSchema.parse({ lines: [line] })).toEqual({ lines: [line] });
    for (const batch_seq of [0, -1, 1.5, '2', null]) {
      expect(LogBatchSchema.safeParse({ batch_seq, lines: [line] }).success).toBe(false);
    }
  });
});

describe('commits', () => {
  const spec = {
    build_id: '7d9f0c1e-0000-4000-8000-000000000000',
    project_id: '7d9f0c1e-0000-4000-8000-000000000001',
    attempt: 1,
    repo_url: 'https://github.com/acme/site.git',
    branch: 'main',
    root_dir: '',
    env: {},
    secret_names: [],
    overrides: {},
    limits: { build_timeout_ms: 1, step_timeout_ms: 1 },
  };

  it('a job spec names a commit, or none (null; empty from older platforms) for a branch head', () => {
    for (const commit_sha of ['a'.repeat(40), null, '']) {
      expect(JobSpecSchema.parse({ ...spec, commit_sha }).commit_sha).toBe(commit_sha);
    }
  });

  it('the runner reports a full lowercase sha, nothing else', () => {
    expect(CommitReportSchema.parse({ commit_sha: 'a'.repeat(40) })).toEqual({
      commit_sha: 'a'.repeat(40),
    });
    expect(CommitReportSchema.safeParse({ commit_sha: 'b'.repeat(64) }).success).toBe(true);
    for (const commit_sha of ['', 'abc1234', 'A'.repeat(40), 'g'.repeat(40), null]) {
      expect(CommitReportSchema.safeParse({ commit_sha }).success).toBe(false);
    }
  });
});
