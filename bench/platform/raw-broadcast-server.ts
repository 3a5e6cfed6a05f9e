import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { packLines } from '../../core/log-frames';
import type { LogLine } from '../../core/log-stream';
import { probeLine, wallNow } from './log-viewers';

/**
 * The (b) baseline, run as its own process as the platform is: a bare `ws` server that makes
 * the same probe lines at the same pace and sends each tick's lines as one frame to every
 * viewer, packed as the platform packs them for the dashboard and the CLI (`core/log-frames.ts`),
 * so both crowds parse frames of the same size. Prints its port;
 * `POST /go?lines=N&tick_ms=T&per_tick=P` starts the stream, which ends with an `end` frame and
 * a close.
 */
const server = createServer((request, response) => {
  const query = new URL(request.url ?? '/', 'http://x').searchParams;
  const lines = Number(query.get('lines'));
  const perTick = Number(query.get('per_tick'));
  let sent = 0;
  const timer = setInterval(
    () => {
      const frame: LogLine[] = [];
      for (let i = 0; i < perTick && sent < lines; i++) {
        sent++;
        const at = wallNow();
        frame.push({
          seq: sent,
          stream: 'stdout',
          text: probeLine(sent, at),
          step_id: 'build',
          ts: Math.floor(at),
        });
      }
      const data = JSON.stringify(packLines(frame));
      for (const client of sockets.clients) client.send(data);
      if (sent < lines) return;
      clearInterval(timer);
      for (const client of sockets.clients) {
        client.send(JSON.stringify({ type: 'end', status: 'succeeded' }));
        client.close(1000);
      }
    },
    Number(query.get('tick_ms')),
  );
  response.end('started');
});
const sockets = new WebSocketServer({ server, perMessageDeflate: false });
server.listen(0, '127.0.0.1', () => {
  console.log(String((server.address() as AddressInfo).port));
});
