import type { Project } from '../project';
import { joinPath } from '../source-tree';
import type { Decision } from '../types';
import { type Framework, noOutput } from './framework';

/** The module directories a go.work `use`s, in order; those outside the checkout are left out. */
export function workspaceModules(goWork: string): string[] {
  const dirs: string[] = [];
  for (const [, block, single] of goWork.matchAll(/^use\s+(?:\(([^)]*)\)|(\S+))/gm)) {
    for (const line of (block ?? single ?? '').split('\n')) {
      const dir = line
        .replace(/\/\/.*/, '')
        .trim()
        .replace(/^\.\//, '')
        .replace(/\/$/, '');
      if (dir === '.') dirs.push('');
      else if (dir && !dir.startsWith('..') && !dir.startsWith('/')) dirs.push(dir);
    }
  }
  return dirs;
}

/** The main package of the module in `dir`: the module root, or the one (or module-named) cmd/. */
async function mainPackage(project: Project, dir: string): Promise<Decision<string> | undefined> {
  const at = (name: string) => (dir === '' ? name : joinPath(dir, name));
  const prefix = dir === '' ? '.' : `./${dir}`;
  for (const name of (await project.list(dir)).filter((file) => file.endsWith('.go'))) {
    if (/^package\s+main\b/m.test((await project.read(at(name))) ?? '')) {
      return { value: prefix, evidence: `${at(name)} is package main` };
    }
  }
  const commands = await project.list(at('cmd'));
  const module = /^module\s+(\S+)/m.exec((await project.read(at('go.mod'))) ?? '')?.[1];
  const command = commands.find((name) => name === module?.split('/').pop()) ?? commands[0];
  if (!command) return undefined;
  const others = commands.length > 1 ? ` (of ${commands.join(', ')})` : '';
  return { value: `${prefix}/cmd/${command}`, evidence: `${at(`cmd/${command}`)}${others}` };
}

/** The main package to build: in the root module, else in the first workspace module with one. */
async function goMainPackage(project: Project): Promise<Decision<string>> {
  const goWork = await project.read('go.work');
  const used = goWork ? workspaceModules(goWork) : [];
  const modules = (await project.has('go.mod')) ? ['', ...used.filter((dir) => dir !== '')] : used;
  for (const dir of modules) {
    const main = await mainPackage(project, dir);
    if (!main) continue;
    if (!goWork) return main;
    return { ...main, evidence: `${main.evidence} (go.work uses ${used.join(', ') || '.'})` };
  }
  return { value: '.', evidence: 'no package main found: building the module root' };
}

export const goFrameworks = {
  go: {
    name: 'Go',
    runtime: 'go',
    ecosystem: 'go',
    match: (project) => project.firstPresent(['go.mod', 'go.work']),
    async plan(project) {
      const main = await goMainPackage(project);
      return {
        build: { value: `go build -o ./bin/app ${main.value}`, evidence: main.evidence },
        start: { value: './bin/app', evidence: 'the binary go build wrote' },
        output: noOutput('a Go binary'),
      };
    },
  },
} satisfies Record<string, Framework>;
