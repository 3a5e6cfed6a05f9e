import { Command, InvalidArgumentError } from 'commander';
import type { DoraReport } from '../../core/dora/report';
import { DEFAULT_DORA_WINDOW, DORA_WINDOWS } from '../../core/dora/window';
import { linkedProject, withApiOptions } from '../client';
import { doraRows } from '../dora-table';
import { action, formatTable, note, printJson } from '../output';
import type { ApiOptions } from './link';

function windowName(value: string): string {
  if (!(value in DORA_WINDOWS)) {
    throw new InvalidArgumentError(`one of ${Object.keys(DORA_WINDOWS).join(', ')}`);
  }
  return value;
}

/** `sparki dora`: the linked project's (or its workspace's) DORA metrics (docs/dora.md). */
export function doraCommand(): Command {
  return withApiOptions(
    new Command('dora')
      .description("the linked project's DORA metrics over the last 7, 30 or 90 days")
      .option('--window <window>', '7d, 30d or 90d', windowName, DEFAULT_DORA_WINDOW)
      .option('--workspace', "all the workspace's projects together")
      .option('--json', 'print the whole report (with the deployments behind it) as JSON'),
  ).action(
    action(
      async (options: ApiOptions & { window: string; workspace?: boolean; json?: boolean }) => {
        const { api, link } = await linkedProject(options);
        const scope = options.workspace
          ? `/api/workspaces/${link.workspace_id}`
          : `/api/projects/${link.project_id}`;
        const report = await api.get<DoraReport>(`${scope}/dora?window=${options.window}`);
        if (options.json) return printJson(report);
        const [header, ...rows] = doraRows(report);
        process.stdout.write(`${formatTable(header!, rows)}\n`);
        note(
          `${report.window.from.slice(0, 10)} to ${report.window.to.slice(0, 10)}; ` +
            'sparki dora --json lists the deployments behind each number (docs/dora.md).',
        );
      },
    ),
  );
}
