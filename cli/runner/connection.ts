import WebSocket from 'ws';
import {
  HEARTBEAT_INTERVAL_MS,
  type HubMessage,
  HubMessageSchema,
  RUNNER_PROTOCOL_VERSION,
  type RunnerMessage,
} from '../../core/runner-protocol';
import { type BackoffOptions, backoffDelayMs, RECONNECT_BACKOFF } from './backoff';

export interface ConnectionOptions {
  url: string;
  runnerToken: string;
  /** Builds in progress, announced in `hello` and every heartbeat. */
  running(): string[];
  onMessage(message: HubMessage): void;
  log(message: string): void;
  backoff?: BackoffOptions;
}

/** The hub closes a runner's older socket with this code when the runner connects again. */
const REPLACED = 4000;

/** The platform refused the runner token, or another process uses it: retrying cannot help. */
export class RunnerRefusedError extends Error {
  override name = 'RunnerRefusedError';
}

export function connectUrl(url: string): string {
  return `${url.replace(/\/+$/, '')}/api/runners/connect`.replace(/^http/, 'ws');
}

/**
 * The runner's WebSocket to its workspace's hub, kept open for as long as the agent runs:
 * reconnects with backoff and jitter, says hello with the builds it still runs, heartbeats at
 * the pace the hub asks for. Node's global WebSocket cannot send an Authorization header,
 * hence the `ws` package.
 */
export class RunnerConnection {
  /** Settles when the connection gives up for good (the token was refused). */
  readonly refused: Promise<RunnerRefusedError>;
  private socket: WebSocket | undefined;
  private failures = 0;
  private closing = false;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private reconnect: ReturnType<typeof setTimeout> | undefined;
  private refuse!: (error: RunnerRefusedError) => void;

  constructor(private readonly options: ConnectionOptions) {
    this.refused = new Promise((resolve) => {
      this.refuse = resolve;
    });
  }

  start(): void {
    this.closing = false;
    this.connect();
  }

  /** False when the socket is down: the hub learns the state from the next hello instead. */
  send(message: RunnerMessage): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.reconnect);
    clearInterval(this.heartbeat);
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.close(1000, 'runner stopping');
    const timer = setTimeout(() => socket.terminate(), 2_000);
    await closed;
    clearTimeout(timer);
  }

  private connect(): void {
    const socket = new WebSocket(connectUrl(this.options.url), {
      headers: { authorization: `Bearer ${this.options.runnerToken}` },
      handshakeTimeout: 15_000,
    });
    this.socket = socket;
    socket.on('unexpected-response', (_request, response) => {
      response.resume();
      const status = response.statusCode ?? 0;
      if (status === 401 || status === 403) {
        this.closing = true;
        this.refuse(
          new RunnerRefusedError(`the platform refused the runner token (HTTP ${status})`),
        );
      } else {
        this.options.log(`connection refused: HTTP ${status}`);
      }
      socket.terminate();
    });
    socket.on('open', () => {
      this.options.log('connected');
      this.send({
        type: 'hello',
        version: RUNNER_PROTOCOL_VERSION,
        running: this.options.running(),
      });
      this.startHeartbeat(HEARTBEAT_INTERVAL_MS);
    });
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      this.receive(data.toString());
    });
    socket.on('error', (error) => {
      if (!this.closing) this.options.log(`connection error: ${error.message}`);
    });
    socket.on('close', (code) => {
      clearInterval(this.heartbeat);
      if (this.socket !== socket || this.closing) return;
      if (code === REPLACED) {
        this.closing = true;
        this.refuse(new RunnerRefusedError('another process connected with this runner token'));
        return;
      }
      const delay = backoffDelayMs(this.failures++, this.options.backoff ?? RECONNECT_BACKOFF);
      this.options.log(`disconnected; reconnecting in ${delay} ms`);
      this.reconnect = setTimeout(() => this.connect(), delay);
    });
  }

  private receive(text: string): void {
    let parsed: ReturnType<typeof HubMessageSchema.safeParse>;
    try {
      parsed = HubMessageSchema.safeParse(JSON.parse(text));
    } catch {
      parsed = HubMessageSchema.safeParse(undefined);
    }
    if (!parsed.success) {
      this.options.log('ignored a message from the hub that does not follow the protocol');
      return;
    }
    const message = parsed.data;
    if (message.type === 'welcome') {
      this.failures = 0;
      this.startHeartbeat(message.heartbeat_interval_ms);
    } else if (message.type === 'error') {
      this.options.log(`hub error: ${message.message}`);
    }
    this.options.onMessage(message);
  }

  private startHeartbeat(intervalMs: number): void {
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(
      () => this.send({ type: 'heartbeat', running: this.options.running() }),
      intervalMs,
    );
  }
}
