import type { Project } from './project';

/**
 * Build files of ecosystems whose toolchain and frameworks both depend on them: read once here,
 * below both, so neither imports the other.
 */

export const DENO_CONFIGS = ['deno.json', 'deno.jsonc'];

export const GRADLE_FILES = [
  'build.gradle.kts',
  'build.gradle',
  'settings.gradle.kts',
  'settings.gradle',
];

/** Maven or Gradle, its manifest, and the wrapper script when the project has one. */
export interface JavaBuild {
  tool: 'maven' | 'gradle';
  manifest: string;
  command: string;
}

export async function javaBuild(project: Project): Promise<JavaBuild | undefined> {
  if (await project.has('pom.xml')) {
    const command = (await project.has('mvnw')) ? './mvnw' : 'mvn';
    return { tool: 'maven', manifest: 'pom.xml', command };
  }
  const manifest = await project.firstPresent(GRADLE_FILES);
  if (!manifest) return undefined;
  const command = (await project.has('gradlew')) ? './gradlew' : 'gradle';
  return { tool: 'gradle', manifest, command };
}

export const DOTNET_PROJECT_FILE = /\.(?:csproj|fsproj|vbproj)$/;
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
  const paths = (await project.list()).filter((name) => DOTNET_PROJECT_FILE.test(name));
  if (paths.length === 0) {
    for (const dir of await project.list('src')) {
      for (const name of await project.list(`src/${dir}`)) {
        if (DOTNET_PROJECT_FILE.test(name)) paths.push(`src/${dir}/${name}`);
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
