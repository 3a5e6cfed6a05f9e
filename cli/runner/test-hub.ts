import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import type { z } from 'zod';
import { OutputFilesSchema } from '../../core/build-output';
import {
  CommitReportSchema,
  type DetectionReport,
  DetectionReportSchema,
  type HubMessage,
  type JobResult,
  JobResultSchema,
  type JobSpec,
  LogBatchSchema,
  RegisterRunnerRequestSchema,
  type RunnerMessage,
  RunnerMessageSchema,
  type StepReport,
  StepReportSchema,
} from '../../core/runner-protocol';
import type { LogLine } from './log-shipper';

/**
 * A stand-in for the platform side of the runner protocol, for the agent's own tests: the hub
 * WebSocket and the job HTTP API, validating every message with the protocol's schemas. The
 * end-to-end test runs the agent against the real Worker instead.
 */
export interface HubJob {
  spec: JobSpec;
  token: string;
  logs: LogLine[];
  steps: StepReport['steps'];
  /** The commit the runner reported checking out. */
  commit?: string;
  /** The committer date it reported with it. */
  committedAt?: string;
  /** What the runner reported detection found. */
  detection?: DetectionReport;
  /** `batch_seq` of every log batch received, retries included. */
  batchSeqs: (number | undefined)[];
  /** The committed output: path → content. */
  output?: Map<string, Buffer>;
  /** Blobs this job uploaded, in order. */
  uploads: string[];
  result?: JobResult;
}

export interface Connection {
  at: number;
  socket?: WebSocket;
  messages: RunnerMessage[];
}

export class TestHub {
  readonly registrationToken = `spk_rrt_${randomUUID()}`;
  readonly runnerToken = `spk_rnr_${randomUUID()}`;
  readonly runnerId = randomUUID();
  readonly registrations: z.infer<typeof RegisterRunnerRequestSchema>[] = [];
  readonly jobs = new Map<string, HubJob>();
  /** Content-addressed, shared by every job, as on the platform. */
  readonly blobs = new Map<string, Buffer>();
  /** Upgrade attempts, refused or not. */
  readonly attempts: number[] = [];
  readonly connections: Connection[] = [];
  /** Requests or messages that broke the protocol: a test expects none. */
  readonly violations: string[] = [];
  refuseNext = 0;
  heartbeatIntervalMs = 200;
  private server!: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error) => {
        this.violations.push(`${request.method} ${request.url}: ${error}`);
        response.writeHead(400).end(String(error));
      });
    });
    this.server.on('upgrade', (request, socket, head) => {
      this.attempts.push(Date.now());
      const refuse = (status: string) =>
        socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`);
      if (request.url !== '/api/runners/connect') return refuse('404 Not Found');
      if (request.headers.authorization !== `Bearer ${this.runnerToken}`) {
        return refuse('401 Unauthorized');
      }
      if (this.refuseNext > 0) {
        this.refuseNext--;
        return refuse('503 Service Unavailable');
      }
      this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  get current(): Connection | undefined {
    return this.connections.at(-1);
  }

  /** Every message the runner sent, over every connection. */
  get messages(): RunnerMessage[] {
    return this.connections.flatMap((connection) => connection.messages);
  }

  addJob(spec: JobSpec): HubJob {
    const job: HubJob = {
      spec,
      token: `job-${randomUUID()}`,
      logs: [],
      steps: [],
      batchSeqs: [],
      uploads: [],
    };
    this.jobs.set(spec.build_id, job);
    return job;
  }

  offer(job: HubJob): void {
    this.send({
      type: 'job',
      build_id: job.spec.build_id,
      attempt: job.spec.attempt,
      job_token: job.token,
    });
  }

  send(message: HubMessage): void {
    this.current!.socket!.send(JSON.stringify(message));
  }

  dropConnection(): void {
    this.current?.socket?.terminate();
  }

  private accept(socket: WebSocket): void {
    const connection: Connection = { at: Date.now(), socket, messages: [] };
    this.connections.push(connection);
    socket.on('message', (data) => {
      const parsed = RunnerMessageSchema.safeParse(JSON.parse(data.toString()));
      if (!parsed.success) {
        this.violations.push(`runner message: ${data.toString()}`);
        return;
      }
      connection.messages.push(parsed.data);
      if (parsed.data.type === 'hello') {
        this.send({
          type: 'welcome',
          runner_id: this.runnerId,
          heartbeat_interval_ms: this.heartbeatIntervalMs,
          lease_ttl_ms: this.heartbeatIntervalMs * 4,
        });
      }
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const json = () => JSON.parse(body.toString('utf8'));
    const url = request.url ?? '';
    if (request.method === 'POST' && url === '/api/runners/register') {
      const registration = RegisterRunnerRequestSchema.parse(json());
      if (registration.registration_token !== this.registrationToken) {
        response.writeHead(401).end();
        return;
      }
      this.registrations.push(registration);
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ runner_id: this.runnerId, runner_token: this.runnerToken }));
      return;
    }
    const match = /^\/api\/jobs\/([^/]+)(\/[a-z]+(?:\/[a-z0-9]+)?)?$/.exec(url);
    const job = match ? this.jobs.get(match[1]!) : undefined;
    if (!job || request.headers.authorization !== `Bearer ${job.token}`) {
      response.writeHead(404).end();
      return;
    }
    const route = `${request.method} ${match![2] ?? ''}`;
    if (route === 'GET ') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(job.spec));
      return;
    }
    if (route === 'POST /logs') {
      const batch = LogBatchSchema.parse(json());
      job.batchSeqs.push(batch.batch_seq);
      job.logs.push(...batch.lines);
    } else if (route === 'POST /commit') {
      const report = CommitReportSchema.parse(json());
      job.commit = report.commit_sha;
      job.committedAt = report.committed_at;
    } else if (route === 'POST /detection') job.detection = DetectionReportSchema.parse(json());
    else if (route === 'POST /steps') job.steps.push(...StepReportSchema.parse(json()).steps);
    else if (route === 'POST /output/missing') {
      const { files } = OutputFilesSchema.parse(json());
      const sizes = new Map(files.map((file) => [file.hash, file.size]));
      const missing = [...sizes.keys()].filter((hash) => !this.blobs.has(hash));
      const bytes = missing.reduce((sum, hash) => sum + sizes.get(hash)!, 0);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ missing, bytes }));
      return;
    } else if (route.startsWith('PUT /blobs/')) {
      const hash = route.slice('PUT /blobs/'.length);
      if (createHash('sha256').update(body).digest('hex') !== hash) {
        response.writeHead(400).end();
        return;
      }
      this.blobs.set(hash, body);
      job.uploads.push(hash);
    } else if (route === 'POST /blobs') {
      // A batch, parsed as the platform does it: one file part per blob, named by its hash.
      const form = await new Request('http://hub.test/', {
        method: 'POST',
        headers: { 'content-type': request.headers['content-type'] ?? '' },
        body,
      }).formData();
      const stored: { hash: string; size: number; stored: boolean }[] = [];
      for (const [hash, part] of form) {
        const bytes = typeof part === 'string' ? undefined : Buffer.from(await part.arrayBuffer());
        if (!bytes || createHash('sha256').update(bytes).digest('hex') !== hash) {
          response.writeHead(400).end();
          return;
        }
        this.blobs.set(hash, bytes);
        job.uploads.push(hash);
        stored.push({ hash, size: bytes.length, stored: true });
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ blobs: stored }));
      return;
    } else if (route === 'PUT /output') {
      const { files } = OutputFilesSchema.parse(json());
      if (files.some((file) => !this.blobs.has(file.hash))) {
        response.writeHead(409).end();
        return;
      }
      job.output = new Map(files.map((file) => [file.path, this.blobs.get(file.hash)!]));
    } else if (route === 'POST /complete') job.result = JobResultSchema.parse(json());
    else throw new Error(`unknown route ${route}`);
    response.writeHead(204).end();
  }
}
