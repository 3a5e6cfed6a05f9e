import { resolveImageTemplate } from '../../core/deploy/image-reference';
import type { JobSpec } from '../../core/runner-protocol';

/** Variables of the runner's own environment that steps may see: locale and tool lookup. */
const INHERITED = ['PATH', 'LANG', 'LC_ALL', 'TZ'] as const;

/**
 * Host variables passed to builds unless the runner was registered with --no-default-pass-env:
 * where the machine's CA certificates are, and which proxy reaches the internet. Behind a
 * TLS-inspecting proxy a build cannot fetch a dependency without them. A proxy URL may carry
 * credentials: its password is masked in the log, but the build's code can read it.
 */
export const DEFAULT_PASS_ENV = [
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'NODE_EXTRA_CA_CERTS',
  'REQUESTS_CA_BUNDLE',
  'PIP_CERT',
  'CURL_CA_BUNDLE',
  'GIT_SSL_CAINFO',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
] as const;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why a host variable may not be passed to builds, or undefined if it may. */
export function passEnvProblem(name: string): string | undefined {
  if (!NAME.test(name)) return `"${name}" is not an environment variable name`;
  // The build's own directories keep it away from the runner's files (and its token).
  if (name === 'HOME' || name === 'TMPDIR') return `${name} is the build's own directory`;
  if (name.startsWith('SPARKI'))
    return `${name}: SPARKI* variables are the runner's and the build's own`;
  return undefined;
}

/** The listed host variables that are set, in the order listed. */
export function passedEnvironment(
  host: NodeJS.ProcessEnv,
  names: readonly string[],
): Record<string, string> {
  return Object.fromEntries(
    names.flatMap((name) => (host[name] && !passEnvProblem(name) ? [[name, host[name]]] : [])),
  );
}

/** Credentials in proxy URLs (`http://user:password@proxy:3128`): the log never shows them. */
export function passedSecrets(passed: Record<string, string>): string[] {
  return Object.entries(passed).flatMap(([name, value]) => {
    if (!/_proxy$/i.test(name) || !URL.canParse(value)) return [];
    const { username, password } = new URL(value);
    const secret = password || username;
    return secret ? [...new Set([secret, decodeURIComponent(secret)])] : [];
  });
}

export interface StepEnvironmentInput {
  spec: Pick<JobSpec, 'build_id' | 'attempt' | 'build_number' | 'commit_sha' | 'branch' | 'env'>;
  /** Per-job directories: a step must not find the runner's configuration (and token) in ~. */
  home: string;
  tmp: string;
  host: NodeJS.ProcessEnv;
  /** The host variables the runner passes on (`passedEnvironment`). */
  passed?: Record<string, string>;
  /** The dependency caches' variables (`npm_config_cache`, `GOMODCACHE`…). */
  cache?: Record<string, string>;
}

/** PATH and the locale: the host's, or defaults that work without them. */
function hostBasics(host: NodeJS.ProcessEnv): { PATH: string; LANG: string } {
  const inherited = Object.fromEntries(
    INHERITED.flatMap((name) => (host[name] ? [[name, host[name]]] : [])),
  );
  return { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', ...inherited };
}

/**
 * The environment a step runs with: built from scratch, never a copy of the runner's, so the
 * runner token and whatever else the host keeps in its environment stay out of the build.
 * What the runner's operator passed on comes after the caches' variables, to point a tool
 * elsewhere on purpose. The project's variables come after those defaults so they can change
 * them (PATH, LANG, a proxy); the SPARKI_* facts about the build come last and cannot be
 * overridden.
 */
export function stepEnvironment({ spec, home, tmp, host, passed, cache }: StepEnvironmentInput) {
  return {
    ...hostBasics(host),
    ...cache,
    ...passed,
    HOME: home,
    TMPDIR: tmp,
    CI: 'true',
    TERM: 'dumb',
    ...spec.env,
    SPARKI: '1',
    SPARKI_BUILD_ID: spec.build_id,
    SPARKI_BUILD_ATTEMPT: String(spec.attempt),
    SPARKI_BUILD_NUMBER: spec.build_number === undefined ? '' : String(spec.build_number),
    // The job replaces it with the commit checked out, which a branch head build learns then.
    SPARKI_COMMIT_SHA: spec.commit_sha ?? '',
    SPARKI_BRANCH: spec.branch ?? '',
  } satisfies Record<string, string>;
}

/**
 * A build `sparki deploy` runs on the person's own machine: their environment (toolchain, caches,
 * registry credentials are theirs to use), without the SPARKI* variables that carry their platform
 * token, then the target environment's plain variables as a runner build would get them, and
 * SPARKI=1.
 */
export function localStepEnvironment(
  host: NodeJS.ProcessEnv,
  variables: Record<string, string>,
): Record<string, string> {
  const own = Object.entries(host).flatMap(([name, value]) =>
    value === undefined || name.startsWith('SPARKI') ? [] : [[name, value]],
  );
  return { ...Object.fromEntries(own), ...variables, SPARKI: '1' };
}

/** git's: the host's CA certificates and proxies, none of the project's variables. */
export function checkoutEnvironment({
  home,
  host,
  passed,
}: Pick<StepEnvironmentInput, 'home' | 'host' | 'passed'>): Record<string, string> {
  return { ...hostBasics(host), ...passed, HOME: home };
}

/** The values to mask: every listed secret that has a value in the job's environment. */
export function secretValues(spec: Pick<JobSpec, 'env' | 'secret_names'>): string[] {
  return spec.secret_names.flatMap((name) => (spec.env[name] ? [spec.env[name]] : []));
}

/**
 * worker-configuration.d.ts declares the Worker's variables as required members of
 * NodeJS.ProcessEnv; a child process's environment is a plain map of what we chose to pass.
 */
export function asProcessEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return env as unknown as NodeJS.ProcessEnv;
}

/**
 * SPARKI_IMAGE: the reference the target environment deploys for this build (its image template
 * filled in), so a step that pushes an image pushes the one that will be deployed. `log` says
 * which, or why there is none.
 */
export function imageEnvironment(
  spec: JobSpec,
  sha: string,
  log: (text: string) => void,
): { SPARKI_IMAGE?: string } {
  if (!spec.image_template || spec.build_number === undefined) return {};
  const resolved = resolveImageTemplate(spec.image_template, {
    commitSha: sha,
    number: spec.build_number,
    branch: spec.branch,
  });
  if ('problem' in resolved) {
    log(`No SPARKI_IMAGE for this build: ${resolved.problem}`);
    return {};
  }
  log(`Image for this build: ${resolved.image} (SPARKI_IMAGE)`);
  return { SPARKI_IMAGE: resolved.image };
}
