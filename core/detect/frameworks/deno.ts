import { DENO_CONFIGS } from '../build-files';
import { isRecord, type Project } from '../project';
import type { Decision } from '../types';
import { type Framework, noOutput } from './framework';

const ENTRY_FILES = ['main.ts', 'server.ts', 'mod.ts', 'src/main.ts', 'main.js', 'server.js'];

async function denoTasks(project: Project): Promise<Record<string, unknown>> {
  const path = await project.firstPresent(DENO_CONFIGS);
  const config = path && (await project.jsonc(path));
  return isRecord(config) && isRecord(config.tasks) ? config.tasks : {};
}

const task = (name: string, body: unknown) =>
  `deno.json task "${name}"${typeof body === 'string' ? `: "${body}"` : ''}`;

export const denoFrameworks = {
  deno: {
    name: 'Deno',
    runtime: 'deno',
    ecosystem: 'deno',
    match: (project) => project.firstPresent(DENO_CONFIGS),
    async plan(project, toolchain) {
      const tasks = await denoTasks(project);
      let start: Decision<string | null>;
      if ('start' in tasks) {
        start = { value: toolchain.run('start'), evidence: task('start', tasks.start) };
      } else {
        const entry = await project.firstPresent(ENTRY_FILES);
        // The build container, not Deno's permission sandbox, is what confines the app.
        start = entry
          ? { value: `deno run -A ${entry}`, evidence: `no "start" task: ${entry}` }
          : { value: null, evidence: `no "start" task and no ${ENTRY_FILES.join(', ')}` };
      }
      return {
        build:
          'build' in tasks
            ? { value: toolchain.run('build'), evidence: task('build', tasks.build) }
            : { value: null, evidence: 'no "build" task: Deno runs from source' },
        start,
        output: noOutput('a Deno app'),
      };
    },
  },
} satisfies Record<string, Framework>;
