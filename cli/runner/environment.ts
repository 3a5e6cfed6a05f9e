import type { JobSpec } from '../../core/runner-protocol';

/** Variables of the runner's own environment that steps may see: locale and tool lookup. */
const INHERITED = ['PATH', 'LANG', 'LC_ALL', 'TZ'] as const;

export interface StepEnvironmentInput {
  spec: Pick<JobSpec, 'build_id' | 'attempt' | 'build_number' | 'commit_sha' | 'branch' | 'env'>;
  /** Per-job directories: a step must not find the runner's configuration (and token) in ~. */
  home: string;
  tmp: string;
  host: NodeJS.ProcessEnv;
}

/**
 * The environment a step runs with: built from scratch, never a copy of the runner's, so the
 * runner token and whatever else the host keeps in its environment stay out of the build.
 * The project's variables come after the defaults so they can change them (PATH, LANG); the
 * SPARKI_* facts about the build come last and cannot be overridden.
 */
export function stepEnvironment({ spec, home, tmp, host }: StepEnvironmentInput) {
  const inherited = Object.fromEntries(
    INHERITED.flatMap((name) => (host[name] ? [[name, host[name]]] : [])),
  );
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    ...inherited,
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
