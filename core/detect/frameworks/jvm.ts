import { type JavaBuild, javaBuild } from '../build-files';
import type { Project } from '../project';
import type { Decision, Toolchain } from '../types';
import { type Framework, noOutput, port } from './framework';

/** The POM without its parent, dependencies and plugins: what is left describes the project. */
const ownPom = (pom: string) =>
  pom.replace(/<(parent|dependencies|dependencyManagement|build|profiles)>[\s\S]*?<\/\1>/g, '');

const tag = (xml: string, name: string) =>
  new RegExp(`<${name}>\\s*([^<\\s]+)\\s*</${name}>`).exec(xml)?.[1];

/** The jar `mvn package` writes: target/<finalName or artifactId-version>.jar. */
async function mavenJar(project: Project): Promise<Decision<string>> {
  const pom = (await project.read('pom.xml')) ?? '';
  const finalName = tag(pom, 'finalName');
  const own = ownPom(pom);
  const [artifact, version] = [tag(own, 'artifactId'), tag(own, 'version')];
  if (finalName && !finalName.includes('$')) {
    return { value: `target/${finalName}.jar`, evidence: 'pom.xml finalName' };
  }
  if (artifact && version && !`${artifact}${version}`.includes('$')) {
    return {
      value: `target/${artifact}-${version}.jar`,
      evidence: 'pom.xml artifactId and version',
    };
  }
  // Spring Boot keeps the plain jar as *.jar.original, so the glob finds the one to run.
  return { value: 'target/*.jar', evidence: 'pom.xml version is computed: the jar in target/' };
}

/** Gradle's project name (settings rootProject.name) and version (the build file's `version`). */
async function gradleProject(project: Project) {
  const settings = (await project.firstFile(['settings.gradle.kts', 'settings.gradle']))?.text;
  const name = settings && /rootProject\.name\s*=\s*["']([^"']+)["']/.exec(settings)?.[1];
  const build = (await project.firstFile(['build.gradle.kts', 'build.gradle']))?.text ?? '';
  const version = /^version\s*=\s*["']([^"']+)["']/m.exec(build)?.[1];
  return { name, version, build };
}

async function gradleJar(project: Project): Promise<Decision<string> | undefined> {
  const { name, version } = await gradleProject(project);
  if (!name) return undefined;
  const jar = version ? `${name}-${version}` : name;
  return {
    value: `build/libs/${jar}.jar`,
    evidence: `settings.gradle rootProject.name${version ? ' and the build file’s version' : ''}`,
  };
}

const NO_NAME: Decision<null> = {
  value: null,
  evidence:
    'settings.gradle sets no rootProject.name, so the jar name is unknown: set startCommand',
};

const buildStep = (build: JavaBuild, toolchain: Toolchain): Decision<string> =>
  build.tool === 'maven'
    ? {
        value: toolchain.exec('-B -DskipTests package'),
        evidence: 'Maven packages the jar, tests skipped',
      }
    : { value: toolchain.exec('build -x test'), evidence: 'Gradle builds the jar, tests skipped' };

const NOT_JAVA = {
  build: { value: null, evidence: 'no pom.xml or build.gradle' },
  start: { value: null, evidence: 'no pom.xml or build.gradle' },
  output: noOutput('a Java app'),
};

export const jvmFrameworks = {
  'spring-boot': {
    name: 'Spring Boot',
    runtime: 'java',
    ecosystem: 'java',
    async match(project) {
      const pom = await project.read('pom.xml');
      const plugin =
        pom &&
        /<artifactId>(spring-boot-(?:starter-parent|maven-plugin))<\/artifactId>/.exec(pom)?.[1];
      if (plugin) return `pom.xml uses ${plugin}`;
      const gradle = await project.firstFile(['build.gradle.kts', 'build.gradle']);
      return gradle && /["']org\.springframework\.boot["']/.test(gradle.text)
        ? `${gradle.path} applies org.springframework.boot`
        : undefined;
    },
    async plan(project, toolchain) {
      const build = await javaBuild(project);
      if (!build) return NOT_JAVA;
      const jar = build.tool === 'maven' ? await mavenJar(project) : await gradleJar(project);
      return {
        build: buildStep(build, toolchain),
        // Spring Boot reads server.port, not PORT.
        start: jar
          ? { value: `java -Dserver.port=${port(8080)} -jar ${jar.value}`, evidence: jar.evidence }
          : NO_NAME,
        output: noOutput('Spring Boot is a server'),
      };
    },
  },
  java: {
    name: 'Java',
    runtime: 'java',
    ecosystem: 'java',
    match: async (project) => (await javaBuild(project))?.manifest,
    async plan(project, toolchain) {
      const build = await javaBuild(project);
      if (!build) return NOT_JAVA;
      const output = noOutput('a JVM app');
      if (build.tool === 'maven') {
        const jar = await mavenJar(project);
        return {
          build: buildStep(build, toolchain),
          start: {
            value: `java -jar ${jar.value}`,
            evidence: `${jar.evidence} (the jar's manifest must name its Main-Class)`,
          },
          output,
        };
      }
      const gradle = await gradleProject(project);
      // The application plugin installs a start script with the classpath beside the jars.
      if (
        /^\s*(?:application\b|id\(?\s*["']application["']|apply plugin:\s*["']application["'])/m.test(
          gradle.build,
        )
      ) {
        return {
          build: {
            value: toolchain.exec('installDist -x test'),
            evidence: 'the application plugin installs the app with its start script',
          },
          start: gradle.name
            ? {
                value: `build/install/${gradle.name}/bin/${gradle.name}`,
                evidence: 'installDist writes bin/<rootProject.name>',
              }
            : NO_NAME,
          output,
        };
      }
      const jar = await gradleJar(project);
      return {
        build: buildStep(build, toolchain),
        start: jar ? { value: `java -jar ${jar.value}`, evidence: jar.evidence } : NO_NAME,
        output,
      };
    },
  },
} satisfies Record<string, Framework>;
