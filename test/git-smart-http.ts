import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveGit } from './git-http-backend';

/** `/owner/name.git/info/refs`, `/owner/name.git/git-upload-pack`: what git's smart HTTP asks for. */
const GIT_PATH = /^\/[^/]+\/[^/]+\.git\/(?:info\/refs|git-upload-pack|HEAD)$/;

/**
 * Serves the repositories under `root` (`root/owner/name.git`, a working tree or a bare
 * repository) read-only over git's smart HTTP protocol, as GitHub serves
 * `https://github.com/owner/name.git`. Answers false for a path that is not a repository's.
 */
export function serveGitRepository(
  root: string,
  req: IncomingMessage,
  url: URL,
  res: ServerResponse,
): boolean {
  if (!GIT_PATH.test(url.pathname)) return false;
  serveGit(root, url.pathname, url, req, res);
  return true;
}
