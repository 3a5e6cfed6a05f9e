import { describe, expect, it } from 'vitest';
import type { Api } from '../client';
import { ApiRequestError } from '../output';
import type { Build } from '../tables';
import { runAction } from './app';
import type { PendingAction, TuiDeployment } from './state';

/** An Api that records each request and answers {} (or throws `fail`). */
function fakeApi(fail?: Error) {
  const calls: unknown[][] = [];
  const api = {
    request: async (...args: unknown[]) => {
      calls.push(args);
      if (fail) throw fail;
      return {};
    },
  } as unknown as Api;
  return { api, calls };
}

const build = { id: 'b 1', number: 4 } as Build;
const deployment = {
  id: 'd1',
  build_id: 'b1',
  environment_id: 'e1',
  stage: 'preview',
  environment: { name: 'preview' },
} as TuiDeployment;
const act = (kind: PendingAction['kind'], target: Build | TuiDeployment): PendingAction => ({
  kind,
  target,
  question: '?',
});

describe('terminal UI actions', () => {
  it('calls the API each action names, and says what it did', async () => {
    const cases: [PendingAction, unknown[], string][] = [
      [act('cancel-build', build), ['POST', '/api/builds/b%201/cancel'], 'Build #4 canceled.'],
      [
        act('cancel-deployment', deployment),
        ['POST', '/api/deployments/d1/cancel'],
        'Deployment canceled.',
      ],
      [
        act('redeploy', deployment),
        ['POST', '/api/builds/b1/deploy', { stage: 'preview' }],
        'Redeploying to preview.',
      ],
      [
        act('promote', deployment),
        ['POST', '/api/deployments/d1/promote'],
        'Promoting to production.',
      ],
      [
        act('rollback', deployment),
        ['POST', '/api/environments/e1/rollback', { deployment_id: 'd1' }],
        'Rolled preview back.',
      ],
    ];
    for (const [action, call, text] of cases) {
      const { api, calls } = fakeApi();
      expect(await runAction(api, action)).toBe(text);
      expect(calls).toEqual([call]);
    }
  });

  it("rejects with the platform's error", async () => {
    const { api } = fakeApi(new ApiRequestError(409, 'conflict', 'the build has ended', 'req-1'));
    await expect(runAction(api, act('cancel-build', build))).rejects.toMatchObject({
      message: 'the build has ended',
      requestId: 'req-1',
    });
  });
});
