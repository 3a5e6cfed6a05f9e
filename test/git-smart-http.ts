import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** `/owner/name.git/info/refs`, `/owner/name.git/git-upload-pack`: what git's smart HTTP asks for. */
const GIT_PATH = /^\/[^/]+\/[^/]+\.git\/(?:info\/refs|git-upload-pack|HEAD)$/;

/**
 * Serves the repositories under `root` (`root/owner/name.git`, a working tree or a bare
 * repository) read-only over git's smart HTTP protocol, as GitHub serves
 * `https://github.com/owner/name.git`: through git's own CGI program, `git http-backend`.
 * Answers false for a path that is not a repository's.
 */
export function serveGitRepository(
  root: string,
  req: IncomingMessage,
  url: URL,
  res: ServerResponse,
): boolean {
  if (!GIT_PATH.test(url.pathname)) return false;
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: url.pathname,
    QUERY_STRING: url.search.slice(1),
    REQUEST_METHOD: req.method ?? 'GET',
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_ADDR: '127.0.0.1',
    // The client may gzip its request and ask for protocol v2; the CGI reads both from here.
    ...(req.headers['content-encoding'] && {
      HTTP_CONTENT_ENCODING: req.headers['content-encoding'],
    }),
    ...(req.headers['git-protocol'] && { GIT_PROTOCOL: String(req.headers['git-protocol']) }),
  };
  // The Worker's generated types make every ProcessEnv carry its bindings; a CGI's has none.
  const cgi = spawn('git', ['http-backend'], {
    env: env as unknown as NodeJS.ProcessEnv,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  req.pipe(cgi.stdin);
  let head = Buffer.alloc(0);
  let started = false;
  cgi.stdout.on('data', (chunk: Buffer) => {
    if (started) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    started = true;
    const headers: Record<string, string> = {};
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const [name, ...rest] = line.split(':');
      const value = rest.join(':').trim();
      if (name!.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else headers[name!] = value;
    }
    res.writeHead(status, headers);
    res.write(head.subarray(end + 4));
  });
  cgi.on('close', () => {
    if (!started) res.writeHead(500).end('git http-backend answered nothing');
    else res.end();
  });
  return true;
}
