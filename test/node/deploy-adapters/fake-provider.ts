import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Artifact, Fetch } from '../../../domain/deployments/adapters';

export interface Received {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface Reply {
  status: number;
  json?: unknown;
  /** A raw body (e.g. an HTML error page from a proxy). */
  text?: string;
  headers?: Record<string, string>;
}

export interface FakeProvider {
  base: string;
  received: Received[];
  fetch: Fetch;
  close(): Promise<void>;
}

/**
 * A local HTTP server standing in for a provider's API: `handle` implements the documented
 * requests and answers; every request is recorded for assertions.
 */
export async function startFakeProvider(
  handle: (request: Received) => Reply | Promise<Reply>,
): Promise<FakeProvider> {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const body = Buffer.concat(chunks);
      const url = new URL(request.url ?? '/', 'http://fake');
      let json: unknown;
      try {
        json = body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
      } catch {
        json = undefined;
      }
      const entry: Received = {
        method: request.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: request.headers,
        body,
        json,
      };
      received.push(entry);
      try {
        const reply = await handle(entry);
        const headers = { ...reply.headers };
        let payload = reply.text ?? '';
        if (reply.json !== undefined) {
          headers['content-type'] ??= 'application/json';
          payload = JSON.stringify(reply.json);
        }
        response.writeHead(reply.status, headers);
        response.end(payload);
      } catch (error) {
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(`fake provider crashed: ${String(error)}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    received,
    fetch: (request) => fetch(request),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A build output held in memory. */
export function memoryArtifact(
  files: Record<string, string>,
  extra: Partial<Artifact> = {},
): Artifact {
  const bytes = new Map(
    Object.entries(files).map(([path, text]) => [path, new TextEncoder().encode(text)]),
  );
  return {
    buildId: 'bld_1',
    files: [...bytes].map(([path, content]) => ({ path, size: content.byteLength })),
    read: async (path) => {
      const content = bytes.get(path);
      if (!content) throw new Error(`no such file ${path}`);
      return content;
    },
    ...extra,
  };
}

export const HTML_BAD_GATEWAY: Reply = {
  status: 502,
  text: '<html><body><h1>502 Bad Gateway</h1></body></html>',
  headers: { 'content-type': 'text/html' },
};
