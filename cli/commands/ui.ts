import { Command } from 'commander';
import { linkedProject, withApiOptions } from '../client';
import { action, CliError, EXIT, isCi } from '../output';

/** A full-screen view needs a person at a terminal: both ends a TTY, and not CI. */
export function canOpenTui(
  env: Readonly<Record<string, string | undefined>> = process.env,
  streams: { stdin: { isTTY?: boolean }; stdout: { isTTY?: boolean } } = process,
): boolean {
  return Boolean(streams.stdin.isTTY && streams.stdout.isTTY) && !isCi(env);
}

export function uiCommand(): Command {
  return withApiOptions(
    new Command('ui').description(
      "open the terminal UI: the linked project's builds and deployments, live (default on a terminal)",
    ),
  ).action(
    action(async (options: { url?: string; token?: string }) => {
      if (!canOpenTui()) {
        throw new CliError('sparki ui needs a terminal (and CI unset)', EXIT.usage);
      }
      const { api, link } = await linkedProject(options);
      // Ink and React load only for the UI: every other command starts without them.
      const { runTui } = await import('../tui/app');
      await runTui(api, link);
    }),
  );
}
