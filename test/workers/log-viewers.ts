import { env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { parseViewerFrame } from '../../core/log-frames';
import { type LogLine, PRESENCE_INTERVAL_MS, type ViewerMessage } from '../../core/log-stream';
import type { LogLineInput } from '../../durable-objects/build-session-store';
import { buildSession } from '../../platform/durable-objects';
import { createWorkspace, newUser, postJson } from './auth-helpers';
import { eventually, fetchWorker, type testDb } from './harness';

/** Live build log tests' setting: a build to watch, and viewers that record every frame. */

// Through here, so a test file loads the Worker (cloudflare:test) before the shared schemas.
export { PRESENCE_INTERVAL_MS };

/** An owner, a workspace, a project and one build of it, with the build's session. */
export async function seedBuild(db: ReturnType<typeof testDb>['db']) {
  const owner = await newUser('logs-owner');
  const workspace = await createWorkspace(owner.access_token);
  // Plain SQL: these rows need only the columns the log routes read.
  const { rows } = await db.execute<{ id: string }>(sql`
    WITH project AS (
      INSERT INTO projects (workspace_id, name, slug) VALUES (${workspace.id}, 'site', 'site')
      RETURNING id
    )
    INSERT INTO builds (project_id, number, commit_sha, trigger)
    SELECT id, 1, ${'b'.repeat(40)}, 'manual' FROM project
    RETURNING id`);
  const buildId = rows[0]!.id;
  return { owner, buildId, session: sessionOf(buildId) };
}

export const sessionOf = (buildId: string) => buildSession(env, buildId);

export const lines = (from: number, count: number, stepId = 'build'): LogLineInput[] =>
  Array.from({ length: count }, (_, i) => ({
    stream: i % 5 === 4 ? 'stderr' : 'stdout',
    text: `line ${from + i}`,
    stepId,
    ts: Date.parse('2026-11-23T10:00:00Z') + from + i,
  }));

/** `token`: an access token or a personal access token; the socket acts with its rights. */
export async function ticket(token: string, body: Record<string, unknown> = {}) {
  const response = await postJson('/api/ws-tickets', body, { authorization: `Bearer ${token}` });
  expect(response.status).toBe(201);
  return (await response.json<{ ticket: string }>()).ticket;
}

export function openLive(buildId: string, protocols: string | null, query = '', extra = {}) {
  const headers: Record<string, string> = { upgrade: 'websocket', ...extra };
  if (protocols !== null) headers['sec-websocket-protocol'] = protocols;
  return fetchWorker(`/api/builds/${buildId}/logs/live${query}`, { headers });
}

/** A connected viewer: every frame it receives, parsed as the clients parse them. */
export class Viewer {
  readonly frames: ViewerMessage[] = [];
  readonly frameBytes: number[] = [];
  /** Each frame's `type` as sent (`lines_packed` arrives as a `lines` message). */
  readonly sentTypes: string[] = [];
  closeCode: number | null = null;

  constructor(readonly ws: WebSocket) {
    ws.accept();
    ws.addEventListener('message', (event) => {
      const data = event.data as string;
      this.frameBytes.push(new TextEncoder().encode(data).length);
      this.sentTypes.push((JSON.parse(data) as { type: string }).type);
      const message = parseViewerFrame(data);
      if (!message) throw new Error(`a frame no client can read: ${data.slice(0, 200)}`);
      this.frames.push(message);
    });
    ws.addEventListener('close', (event) => {
      this.closeCode = event.code;
    });
  }

  lines(): LogLine[] {
    return this.frames.flatMap((frame) => (frame.type === 'lines' ? frame.lines : []));
  }

  of<T extends ViewerMessage['type']>(type: T) {
    return this.frames.filter((frame): frame is Extract<ViewerMessage, { type: T }> => {
      return frame.type === type;
    });
  }

  async until(done: (viewer: Viewer) => boolean, what: string) {
    await eventually(
      async () => done(this),
      (ok) => ok,
      { attempts: 200, intervalMs: 25 },
    );
    expect(done(this), `viewer never saw ${what}`).toBe(true);
  }
}

export async function watch(token: string, buildId: string, query = '') {
  const response = await openLive(buildId, `sparki.v1, ticket.${await ticket(token)}`, query);
  expect(response.status, response.status === 101 ? '' : await response.text()).toBe(101);
  expect(response.headers.get('sec-websocket-protocol')).toBe('sparki.v1');
  const viewer = new Viewer(response.webSocket!);
  await viewer.until((v) => v.of('caught_up').length === 1, 'caught_up');
  return viewer;
}

export const seqs = (viewer: Viewer) => viewer.lines().map((line) => line.seq);
export const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
