/** The exit codes every `sparki` command uses (documented in docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** The command failed: the API refused, the platform could not be reached, a build failed. */
  failure: 1,
  /** The command line was wrong: an unknown option, a missing argument, a bad URL. */
  usage: 2,
  /** The command needs something only a person can give (a sign-in, a confirmation) and cannot ask. */
  needsInput: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure to report in one line on stderr and exit with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
