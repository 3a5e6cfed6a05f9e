import type { Project } from '../project';
import { type Framework, noOutput, port } from './framework';

const PROJECT_FILE = /\.(?:csproj|fsproj|vbproj)$/;
const WEB_SDK = /<Project\s+Sdk="Microsoft\.NET\.Sdk\.Web"/;

/** A .NET project file and what it says about the app. */
export interface DotnetProject {
  path: string;
  text: string;
  web: boolean;
}

/**
 * The project to publish: a project file in the root directory, else under src/<Name>/ (the
 * layout beside a solution file); a web app before the others, test projects last.
 */
export async function dotnetProject(project: Project): Promise<DotnetProject | undefined> {
  const paths = (await project.list()).filter((name) => PROJECT_FILE.test(name));
  if (paths.length === 0) {
    for (const dir of await project.list('src')) {
      for (const name of await project.list(`src/${dir}`)) {
        if (PROJECT_FILE.test(name)) paths.push(`src/${dir}/${name}`);
      }
    }
  }
  const found: DotnetProject[] = [];
  for (const path of paths) {
    const text = (await project.read(path)) ?? '';
    found.push({ path, text, web: WEB_SDK.test(text) });
  }
  const rank = (candidate: DotnetProject) =>
    (candidate.web ? 0 : 2) + (/test/i.test(candidate.path) ? 1 : 0);
  return found.sort((a, b) => rank(a) - rank(b))[0];
}

export const dotnetFrameworks = {
  dotnet: {
    name: '.NET',
    runtime: 'dotnet',
    ecosystem: 'dotnet',
    match: async (project) => (await dotnetProject(project))?.path,
    async plan(project) {
      const app = await dotnetProject(project);
      if (!app) {
        const none = { value: null, evidence: 'no .csproj, .fsproj or .vbproj' };
        return { build: none, start: none, output: noOutput('a .NET app') };
      }
      const assembly =
        /<AssemblyName>([^<]+)<\/AssemblyName>/.exec(app.text)?.[1] ??
        app.path.replace(/^.*\//, '').replace(PROJECT_FILE, '');
      const dll = `dotnet out/${assembly}.dll`;
      return {
        build: {
          value: `dotnet publish ${app.path} -c Release -o out`,
          evidence: `${app.path}: a Release build published to out/`,
        },
        start: app.web
          ? {
              value: `${dll} --urls http://0.0.0.0:${port(8080)}`,
              evidence: `${app.path} uses the Web SDK: ASP.NET Core listens on --urls`,
            }
          : { value: dll, evidence: `${app.path} builds ${assembly}.dll` },
        output: noOutput('a .NET app'),
      };
    },
  },
} satisfies Record<string, Framework>;
