import { execFileSync } from 'node:child_process';
import { isAbsolute, join } from 'node:path';

/**
 * The git hooks `sparki hooks install` writes: after a commit (or a merge, `git pull`) they run
 * `sparki hooks notify` in the background, which asks the platform to have the repository polled
 * at once. The parts without side effects live here, for tests.
 */
export const HOOK_NAMES = ['post-commit', 'post-merge'] as const;
export type HookName = (typeof HOOK_NAMES)[number];

/** The line that marks a hook as Sparki's own. */
export const HOOK_MARKER = '# sparki-hook: installed by `sparki hooks install`';
/** Where a hook that was there before is kept, and run from Sparki's. */
export const CHAINED_SUFFIX = '.pre-sparki';

/** A word the shell reads back as exactly `text`. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * The hook's script: runs the hook it replaced (kept as `<name>.pre-sparki`) with the same
 * arguments and exit status, and starts `notify` without waiting for it, so a commit is never
 * slowed or failed by the platform. What `notify` says goes to `<git dir>/sparki/hook.log`.
 */
export function hookScript(name: HookName, command: readonly string[]): string {
  return [
    '#!/bin/sh',
    HOOK_MARKER,
    '# It tells Sparki about the new commit at once; `sparki hooks uninstall` removes it and puts',
    `# back the hook it replaced (${name}${CHAINED_SUFFIX}), if there was one.`,
    'status=0',
    `chained="$(dirname "$0")/${name}${CHAINED_SUFFIX}"`,
    'if [ -x "$chained" ]; then "$chained" "$@" || status=$?; fi',
    'log_dir="$(git rev-parse --git-dir)/sparki"',
    'mkdir -p "$log_dir"',
    `${command.map(shellQuote).join(' ')} hooks notify >>"$log_dir/hook.log" 2>&1 </dev/null &`,
    'exit $status',
    '',
  ].join('\n');
}

export function isSparkiHook(text: string): boolean {
  return text.includes(HOOK_MARKER);
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    .toString()
    .trim();
}

export interface Repository {
  /** The directory git keeps its files in (`.git`, or a worktree's). */
  gitDir: string;
  /** Where hooks are read from (`core.hooksPath`, else `<git common dir>/hooks`). */
  hooksDir: string;
}

/** The repository `dir` is in; throws when it is not in one. */
export function repositoryAt(dir: string): Repository {
  const absolute = (path: string) => (isAbsolute(path) ? path : join(dir, path));
  return {
    gitDir: absolute(git(dir, 'rev-parse', '--git-dir')),
    hooksDir: absolute(git(dir, 'rev-parse', '--git-path', 'hooks')),
  };
}

/** A value of the repository's local git config, if set. */
export function gitConfig(dir: string, key: string): string | undefined {
  try {
    return git(dir, 'config', '--local', '--get', key) || undefined;
  } catch {
    return undefined;
  }
}

export function setGitConfig(dir: string, key: string, value: string | undefined): void {
  if (value === undefined) {
    try {
      git(dir, 'config', '--local', '--unset', key);
    } catch {
      // Not set.
    }
  } else git(dir, 'config', '--local', key, value);
}
