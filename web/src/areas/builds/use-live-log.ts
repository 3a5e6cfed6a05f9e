import { useEffect, useRef, useState } from 'react';
import { parseViewerFrame } from '../../../../core/log-frames';
import type { BuildEndStatus, StepStates } from '../../../../core/log-stream';
import { WS_PROTOCOL } from '../../../../core/ws-protocol';
import { ApiError, api, unwrap } from '../../api/client';
import { LogBuffer, reconnectDelay } from './log-model';

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'ended' | 'failed';

export interface LiveLog {
  buffer: LogBuffer;
  /** Bumped (at most once a frame) whenever the buffer grew. */
  version: number;
  steps: StepStates | null;
  /** How many people have the log open, as the build session last said (null: not told yet). */
  watching: number | null;
  connection: Connection;
  endStatus: BuildEndStatus | null;
  /** Why the log cannot be watched (the ticket or the build was refused). */
  error: unknown;
  /** How many times the socket was opened again after a drop. */
  reconnects: number;
}

const PING_MS = 25_000;
/** While a replay streams in: the first lines show at once, then a render every so often. */
const REPLAY_FIRST_RENDER = 1000;
const REPLAY_RENDER_MS = 300;

/**
 * A build's log over `GET /api/builds/{id}/logs/live`: a ticket from `POST /api/ws-tickets`
 * (browsers cannot send credentials on a WebSocket), the replay, then live lines. A dropped
 * socket is opened again with a fresh ticket and `after=<the last line the page has>`; the
 * buffer drops whatever arrives twice, so the page shows each line once, with no hole.
 */
export function useLiveLog(buildId: string): LiveLog {
  const bufferRef = useRef<LogBuffer | null>(null);
  if (!bufferRef.current) bufferRef.current = new LogBuffer();
  const buffer = bufferRef.current;
  const [version, setVersion] = useState(0);
  const [steps, setSteps] = useState<StepStates | null>(null);
  const [watching, setWatching] = useState<number | null>(null);
  const [connection, setConnection] = useState<Connection>('connecting');
  const [endStatus, setEndStatus] = useState<BuildEndStatus | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reconnects, setReconnects] = useState(0);

  useEffect(() => {
    let stopped = false;
    let ended = false;
    let attempt = 0;
    let socket: WebSocket | null = null;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let pingTimer: ReturnType<typeof setInterval> | undefined;
    let frame: number | null = null;
    let replayTimer: ReturnType<typeof setTimeout> | undefined;
    let replaying = true;
    let opened = false;

    const render = () => {
      if (frame !== null) cancelAnimationFrame(frame);
      clearTimeout(replayTimer);
      frame = null;
      replayTimer = undefined;
      setVersion((v) => v + 1);
    };
    // Live lines render on the next frame. A replay arrives as hundreds of frames in a burst:
    // rendering each would lay the list out hundreds of times, so it renders a few times a
    // second until `caught_up`.
    const grew = () => {
      if (replaying && buffer.lastSeq > REPLAY_FIRST_RENDER) {
        replayTimer ??= setTimeout(render, REPLAY_RENDER_MS);
      } else {
        frame ??= requestAnimationFrame(render);
      }
    };

    const retry = () => {
      if (stopped || ended) return;
      setConnection('reconnecting');
      retryTimer = setTimeout(connect, reconnectDelay(attempt++, Math.random()));
    };
    // Back online: try now rather than when the backoff says.
    const onOnline = () => {
      if (retryTimer === undefined || socket !== null) return;
      clearTimeout(retryTimer);
      retryTimer = undefined;
      connect();
    };
    window.addEventListener('online', onOnline);

    async function connect() {
      retryTimer = undefined;
      let ticket: string;
      try {
        ({ ticket } = await unwrap(
          api.POST('/api/ws-tickets', { body: { purpose: 'build-logs', resource_id: buildId } }),
        ));
      } catch (failure) {
        // Signed out, or no such build for this user: retrying will not help.
        if (failure instanceof ApiError && [401, 403, 404].includes(failure.status)) {
          setError(failure);
          setConnection('failed');
          return;
        }
        return retry();
      }
      if (stopped) return;
      const url = new URL(`/api/builds/${buildId}/logs/live`, window.location.href);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      url.searchParams.set('after', String(buffer.lastSeq));
      url.searchParams.set('lines', 'packed');
      const ws = new WebSocket(url, [WS_PROTOCOL, `ticket.${ticket}`]);
      replaying = true;
      socket = ws;
      ws.onopen = () => {
        attempt = 0;
        if (opened) setReconnects((n) => n + 1);
        opened = true;
        clearInterval(pingTimer);
        pingTimer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('ping'), PING_MS);
      };
      ws.onmessage = (event) => {
        if (event.data === 'pong' || typeof event.data !== 'string') return;
        const message = parseViewerFrame(event.data);
        if (!message) return;
        switch (message.type) {
          case 'lines':
            if (buffer.add(message.lines) > 0) grew();
            break;
          case 'caught_up':
            replaying = false;
            render();
            setConnection('live');
            break;
          case 'steps':
            setSteps(message.steps);
            break;
          case 'presence':
            setWatching(message.watching);
            break;
          case 'end':
            ended = true;
            setEndStatus(message.status);
            setConnection('ended');
            break;
        }
      };
      ws.onclose = () => {
        clearInterval(pingTimer);
        if (socket === ws) socket = null;
        retry();
      };
    }

    connect();
    return () => {
      stopped = true;
      window.removeEventListener('online', onOnline);
      clearTimeout(retryTimer);
      clearInterval(pingTimer);
      if (frame !== null) cancelAnimationFrame(frame);
      clearTimeout(replayTimer);
      socket?.close(1000, 'Page closed');
    };
  }, [buildId, buffer]);

  return { buffer, version, steps, watching, connection, endStatus, error, reconnects };
}
