import { describe, expect, it } from 'vitest';
import { passEnvNames, RunnerConfigSchema } from './config';
import {
  checkoutEnvironment,
  DEFAULT_PASS_ENV,
  localStepEnvironment,
  passEnvProblem,
  passedEnvironment,
  passedSecrets,
  secretValues,
  stepEnvironment,
} from './environment';

const spec = {
  build_id: '00000000-0000-4000-8000-000000000001',
  attempt: 2,
  build_number: 17,
  commit_sha: 'abc123',
  branch: 'main',
  env: { API_KEY: 'k-123456', NODE_ENV: 'production', SPARKI_BUILD_ID: 'forged', EMPTY: '' },
};

describe('localStepEnvironment', () => {
  it("keeps the person's environment but not their Sparki token; the project's variables win", () => {
    const env = localStepEnvironment(
      {
        PATH: '/home/ada/.nvm/bin:/usr/bin',
        HOME: '/home/ada',
        NODE_ENV: 'development',
        SPARKI_TOKEN: 'spk_pat_secret',
        SPARKI_URL: 'https://sparki.example.com',
        UNSET: undefined,
      } as unknown as NodeJS.ProcessEnv,
      { NODE_ENV: 'production', VITE_API: 'https://api.example.com', SPARKI: 'forged' },
    );
    expect(env).toEqual({
      PATH: '/home/ada/.nvm/bin:/usr/bin',
      HOME: '/home/ada',
      NODE_ENV: 'production',
      VITE_API: 'https://api.example.com',
      SPARKI: '1',
    });
  });
});

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

  it('never hands the steps the checkout credentials', () => {
    const withAuth = { ...spec, checkout_auth: { username: 'x-access-token', password: 'ghs_x1' } };
    const env = stepEnvironment({
      spec: withAuth,
      home: '/h',
      tmp: '/t',
      host: {} as NodeJS.ProcessEnv,
    });
    expect(Object.values(env).join('\n')).not.toContain('ghs_x1');
  });

  it('has a usable PATH even when the host has none', () => {
    const env = stepEnvironment({ spec, home: '/h', tmp: '/t', host: {} as NodeJS.ProcessEnv });
    expect(env.PATH).toBe('/usr/local/bin:/usr/bin:/bin');
  });
});

const HOST = {
  PATH: '/usr/bin',
  HOME: '/home/runner',
  SPARKI_RUNNER_TOKEN: 'spk_rnr_secret',
  SPARKI_REGISTRATION_TOKEN: 'spk_rrt_secret',
  AWS_SECRET_ACCESS_KEY: 'host-secret',
  NODE_EXTRA_CA_CERTS: '/etc/ssl/corp.pem',
  SSL_CERT_FILE: '/etc/ssl/certs/ca-certificates.crt',
  HTTPS_PROXY: 'http://ci:pr0xy%2Fpass@proxy.corp:3128',
  no_proxy: 'localhost,.corp',
  ARTIFACTORY_URL: 'https://artifacts.corp',
} as unknown as NodeJS.ProcessEnv;

describe('host variables passed to builds', () => {
  const config = RunnerConfigSchema.parse({
    url: 'https://sparki.example.com',
    runner_id: '00000000-0000-4000-8000-000000000002',
    runner_token: 'spk_rnr_secret',
    name: 'builder',
    capacity: 1,
  });

  it('passes the CA and proxy variables the host has, by default, and nothing else', () => {
    expect(config.pass_env).toEqual([]);
    expect(passEnvNames(config)).toEqual([...DEFAULT_PASS_ENV]);
    expect(passedEnvironment(HOST, passEnvNames(config))).toEqual({
      SSL_CERT_FILE: '/etc/ssl/certs/ca-certificates.crt',
      NODE_EXTRA_CA_CERTS: '/etc/ssl/corp.pem',
      HTTPS_PROXY: 'http://ci:pr0xy%2Fpass@proxy.corp:3128',
      no_proxy: 'localhost,.corp',
    });
  });

  it('adds the listed names; without the defaults passes only those', () => {
    const listed = { ...config, pass_env: ['ARTIFACTORY_URL', 'UNSET'] };
    expect(passedEnvironment(HOST, passEnvNames(listed, ['NODE_EXTRA_CA_CERTS']))).toMatchObject({
      ARTIFACTORY_URL: 'https://artifacts.corp',
      HTTPS_PROXY: expect.any(String),
    });
    const only = { ...listed, pass_default_env: false };
    expect(passedEnvironment(HOST, passEnvNames(only, ['NODE_EXTRA_CA_CERTS']))).toEqual({
      ARTIFACTORY_URL: 'https://artifacts.corp',
      NODE_EXTRA_CA_CERTS: '/etc/ssl/corp.pem',
    });
  });

  it("never passes the runner's own variables or the build's directories, even if listed", () => {
    for (const name of ['SPARKI_RUNNER_TOKEN', 'SPARKI_REGISTRATION_TOKEN', 'HOME', 'TMPDIR']) {
      expect(passEnvProblem(name)).toBeDefined();
    }
    expect(passEnvProblem('BAD-NAME')).toMatch(/not an environment variable name/);
    expect(passEnvProblem('HTTPS_PROXY')).toBeUndefined();
    const listed = ['SPARKI_RUNNER_TOKEN', 'SPARKI_REGISTRATION_TOKEN', 'HOME'];
    expect(passedEnvironment(HOST, listed)).toEqual({});
  });

  it("masks a proxy URL's credentials, as written and decoded", () => {
    const passed = passedEnvironment(HOST, DEFAULT_PASS_ENV);
    expect(passedSecrets(passed)).toEqual(['pr0xy%2Fpass', 'pr0xy/pass']);
    expect(passedSecrets({ http_proxy: 'http://tokenonly@proxy:8080' })).toEqual(['tokenonly']);
    expect(passedSecrets({ HTTP_PROXY: 'http://proxy:8080', NO_PROXY: 'a,b' })).toEqual([]);
  });

  it('comes after the caches and before the build directories and the project', () => {
    const env = stepEnvironment({
      spec: { ...spec, env: { https_proxy: 'http://project-proxy:3128' } },
      home: '/job/home',
      tmp: '/job/tmp',
      host: HOST,
      cache: { npm_config_cache: '/cache/npm', PIP_CACHE_DIR: '/cache/pip' },
      passed: { npm_config_cache: '/operator/npm', https_proxy: 'http://runner-proxy:3128' },
    });
    expect(env).toMatchObject({
      npm_config_cache: '/operator/npm',
      PIP_CACHE_DIR: '/cache/pip',
      https_proxy: 'http://project-proxy:3128',
      HOME: '/job/home',
    });
    expect(JSON.stringify(env)).not.toContain('spk_');
  });

  it("reach git's environment, the project's variables do not", () => {
    const passed = passedEnvironment(HOST, DEFAULT_PASS_ENV);
    expect(checkoutEnvironment({ home: '/job/home', host: HOST, passed })).toEqual({
      PATH: '/usr/bin',
      LANG: 'C.UTF-8',
      ...passed,
      HOME: '/job/home',
    });
  });
});

describe('secretValues', () => {
  it('masks the listed names that have a value', () => {
    expect(secretValues({ env: spec.env, secret_names: ['API_KEY', 'EMPTY', 'MISSING'] })).toEqual([
      'k-123456',
    ]);
  });
});
