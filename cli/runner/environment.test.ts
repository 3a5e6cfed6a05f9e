import { describe, expect, it } from 'vitest';
import { secretValues, stepEnvironment } from './environment';

const spec = {
  build_id: '00000000-0000-4000-8000-000000000001',
  attempt: 2,
  build_number: 17,
  commit_sha: 'abc123',
  branch: 'main',
  env: { API_KEY: 'k-123456', NODE_ENV: 'production', SPARKI_BUILD_ID: 'forged', EMPTY: '' },
};

describe('stepEnvironment', () => {
  it("starts from nothing: the runner's own variables stay out, the project's go in", () => {
    const env = stepEnvironment({
      spec,
      home: '/work/job/home',
      tmp: '/work/job/tmp',
      host: {
        PATH: '/opt/node/bin:/usr/bin',
        LANG: 'en_US.UTF-8',
        HOME: '/home/runner',
        SPARKI_RUNNER_TOKEN: 'spk_rnr_secret',
        AWS_SECRET_ACCESS_KEY: 'host-secret',
      } as unknown as NodeJS.ProcessEnv,
    });
    expect(env).toEqual({
      PATH: '/opt/node/bin:/usr/bin',
      LANG: 'en_US.UTF-8',
      HOME: '/work/job/home',
      TMPDIR: '/work/job/tmp',
      CI: 'true',
      TERM: 'dumb',
      API_KEY: 'k-123456',
      NODE_ENV: 'production',
      EMPTY: '',
      SPARKI: '1',
      SPARKI_BUILD_ID: spec.build_id,
      SPARKI_BUILD_ATTEMPT: '2',
      SPARKI_BUILD_NUMBER: '17',
      SPARKI_COMMIT_SHA: 'abc123',
      SPARKI_BRANCH: 'main',
    });
  });

  it('has a usable PATH even when the host has none', () => {
    const env = stepEnvironment({ spec, home: '/h', tmp: '/t', host: {} as NodeJS.ProcessEnv });
    expect(env.PATH).toBe('/usr/local/bin:/usr/bin:/bin');
  });
});

describe('secretValues', () => {
  it('masks the listed names that have a value', () => {
    expect(secretValues({ env: spec.env, secret_names: ['API_KEY', 'EMPTY', 'MISSING'] })).toEqual([
      'k-123456',
    ]);
  });
});
