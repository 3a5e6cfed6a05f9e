import { createServer, type IncomingMessage, request } from 'node:http';
import { type AddressInfo, connect } from 'node:net';

export interface Sent {
  method: string;
  path: string;
  /** The request body's bytes, as they went over the wire. */
  bytes: number;
  /** performance.now() when the request came and when its answer had been sent. */
  startedAt: number;
  endedAt: number;
}

/**
 * A loopback HTTP proxy in front of the stack that notes every request's path and body size, so
 * the bench sees what a runner sends (its WebSocket is passed through as raw bytes, uncounted).
 */
export async function startCountingProxy(upstreamPort: number) {
  const sent: Sent[] = [];
  // The stack answers as itself, whichever port the runner was given.
  const host = `127.0.0.1:${upstreamPort}`;
  const server = createServer((incoming, outgoing) => {
    const startedAt = performance.now();
    const entry: Sent = {
      method: incoming.method ?? 'GET',
      path: incoming.url ?? '/',
      bytes: 0,
      startedAt,
      endedAt: startedAt,
    };
    outgoing.on('finish', () => {
      entry.endedAt = performance.now();
    });
    sent.push(entry);
    const upstream = request(
      {
        host: '127.0.0.1',
        port: upstreamPort,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host },
      },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    upstream.on('error', () => outgoing.destroy());
    incoming.on('data', (chunk: Buffer) => {
      entry.bytes += chunk.length;
    });
    incoming.pipe(upstream);
  });
  server.on('upgrade', (incoming: IncomingMessage, socket, head) => {
    const upstream = connect(upstreamPort, '127.0.0.1', () => {
      const lines = [`${incoming.method} ${incoming.url} HTTP/1.1`];
      for (let i = 0; i < incoming.rawHeaders.length; i += 2) {
        const name = incoming.rawHeaders[i]!;
        lines.push(`${name}: ${name.toLowerCase() === 'host' ? host : incoming.rawHeaders[i + 1]}`);
      }
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    /** Requests from now on; what came before is forgotten. */
    reset: () => sent.splice(0),
    sent: () => [...sent],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
