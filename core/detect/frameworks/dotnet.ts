import { DOTNET_PROJECT_FILE, dotnetProject } from '../build-files';
import { type Framework, noOutput, port } from './framework';

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
        app.path.replace(/^.*\//, '').replace(DOTNET_PROJECT_FILE, '');
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
