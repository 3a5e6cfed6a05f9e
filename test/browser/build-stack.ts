import {
  type ApiCall,
  newRepoProject,
  registerRunnerProcess,
  spawnRunner,
} from '../node/e2e-helpers';
import { type BrowserStack, startBrowserStack } from './harness';

export interface BuildStack {
  stack: BrowserStack;
  owner: { email: string; token: string };
  /** The API as the owner. */
  api: ApiCall;
  workspaceId: string;
  /** What the runner printed, for the message of a failure. */
  runnerOutput(): string;
  /**
   * A project on a repository of its own whose build runs `node build.js` with `buildJs`, and a
   * build of it started.
   */
  startScriptBuild(
    slug: string,
    buildJs: string,
  ): Promise<{ projectId: string; build: { id: string; number: number } }>;
  stop(): Promise<void>;
}

/**
 * The browser stack with what a page about builds needs: a signed-up owner, a workspace, and a
 * real `sparki runner` process serving it.
 */
export async function startBuildStack(label: string): Promise<BuildStack> {
  const stack = await startBrowserStack();
  const owner = await stack.newUser(label);
  const api: ApiCall = (method, path, body) => stack.api(method, path, body, owner.token);
  const { id: workspaceId } = await api<{ id: string }>('POST', '/api/workspaces', {
    name: label,
    slug: `${label}-${Date.now()}`,
  });
  const runner = await registerRunnerProcess(api, {
    workspaceId,
    stateDir: stack.stateDir,
    name: `${label}-runner`,
    url: stack.base,
  });
  let output = '';
  const child = spawnRunner(runner.config, stack.stateDir, (chunk) => {
    output += chunk;
  });

  return {
    stack,
    owner,
    api,
    workspaceId,
    runnerOutput: () => output,
    async startScriptBuild(slug, buildJs) {
      const { project } = await newRepoProject(api, {
        workspaceId,
        stateDir: stack.stateDir,
        slug,
        files: {
          'package.json': JSON.stringify({
            name: slug,
            private: true,
            scripts: { build: 'node build.js' },
          }),
          'build.js': buildJs,
        },
      });
      const build = await api<{ id: string; number: number }>(
        'POST',
        `/api/projects/${project.id}/builds`,
        {},
      );
      return { projectId: project.id, build };
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await stack.stop();
    },
  };
}
