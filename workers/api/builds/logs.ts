import { createRoute, z } from '@hono/zod-openapi';
import stripAnsi from 'strip-ansi';
import { LinesEncodingSchema } from '../../../core/log-frames';
import {
  BuildEndStatusSchema,
  buildLogKey,
  formatLogLine,
  type LogLine,
  LogLineSchema,
} from '../../../core/log-stream';
import { WS_PROTOCOL } from '../../../core/ws-protocol';
import { buildSession } from '../../../platform/durable-objects';
import { ApiError, fieldErrors } from '../../../platform/errors';
import { verifyWsTicket } from '../../auth/ws-tickets';
import { errorResponse, openApiErrorResponses } from '../../errors';
import { json } from '../../openapi';
import { newRouter } from '../../router';
import { BuildParams, loadBuild } from './schemas';

const PAGE_MAX = 5000;
const DOWNLOAD_PAGE = 2000;

const SeqSchema = z.coerce.number().int().nonnegative();

const LogPageSchema = z
  .object({
    lines: z.array(LogLineSchema.openapi('LogLine')),
    next_after: z.number().int().nonnegative().openapi({
      description: 'Pass as `after` for the next page: the last sequence number returned',
    }),
    has_more: z.boolean(),
    end_status: BuildEndStatusSchema.nullable().openapi({
      description: 'Null while the build runs: more lines may still come after `next_after`',
    }),
  })
  .openapi('LogPage');

/** `/api/builds/{id}/logs…`: reading and watching a build's log. */
export const buildLogRoutes = newRouter();

buildLogRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/logs/live',
    tags: ['builds'],
    summary: 'Watch a build log live (WebSocket)',
    description:
      'Open with `Upgrade: websocket` and the subprotocols `["sparki.v1", "ticket.<ticket>"]`, ' +
      'a ticket from `POST /api/ws-tickets` (purpose `build-logs`, optionally naming this build). ' +
      'The server answers `101` with `sparki.v1`, sends the current steps, replays the log from ' +
      '`after` (default 0: everything), sends `caught_up`, then live `lines`, `steps` and ' +
      '`presence` frames; when the build ends, `end` and a close with code 1000. Frames are JSON ' +
      'and follow `ViewerMessageSchema` in `core/log-stream.ts`; send `ping` for a `pong`. With ' +
      '`lines=packed`, lines come as `lines_packed` frames instead of `lines` (about a third of ' +
      'the bytes for short lines; `PackedLinesFrameSchema` and `unpackLines` in ' +
      '`core/log-frames.ts`).',
    request: {
      params: BuildParams,
      query: z.object({
        after: SeqSchema.optional(),
        lines: LinesEncodingSchema.optional().openapi({
          description: 'How lines are sent: `objects` (the default) or `packed`',
        }),
      }),
    },
    responses: {
      101: { description: 'Switching Protocols: the log stream' },
      401: errorResponse('No ticket, or a ticket that is spent, expired or for something else'),
      404: errorResponse('No such build, or not in a workspace the ticket’s owner belongs to'),
      426: errorResponse('Not a WebSocket upgrade request'),
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      throw new ApiError('upgrade_required', 'This endpoint only speaks WebSocket');
    }
    const { id } = c.req.valid('param');
    const grant = await verifyWsTicket(c.get('services').db(), c.req.raw);
    if (grant.purpose !== 'build-logs' || (grant.resourceId !== null && grant.resourceId !== id)) {
      throw new ApiError('unauthorized', 'This ticket was minted for another resource');
    }
    // The socket acts for whoever minted the ticket, never for a cookie the browser sent along:
    // a cross-site page can open a WebSocket with our cookies, but it cannot mint a ticket.
    c.set('principal', grant.principal);
    // A project's viewers may read its builds' logs; others do not learn that the build exists.
    await loadBuild(c, id, 'viewer');

    const { after = 0, lines = 'objects' } = c.req.valid('query');
    const url = new URL(c.req.url);
    url.search = `?after=${after}&lines=${lines}`;
    // A fresh request, so the ticket does not travel any further than this route.
    const upgraded = await buildSession(c.env, id).fetch(
      new Request(url, { headers: { upgrade: 'websocket' } }),
    );
    if (!upgraded.webSocket) throw new ApiError('internal_error', 'The build session refused');
    return new Response(null, {
      status: 101,
      webSocket: upgraded.webSocket,
      headers: { 'Sec-WebSocket-Protocol': WS_PROTOCOL },
    });
  },
);

buildLogRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/logs',
    tags: ['builds'],
    summary: 'A page of a build log, oldest first',
    description:
      'Lines with a sequence number above `after` (default 0), at most `limit` (default 1000, ' +
      `up to ${PAGE_MAX}). While \`end_status\` is null the build may still add lines: poll again ` +
      'from `next_after`, or watch `/logs/live`.',
    request: {
      params: BuildParams,
      query: z.object({
        after: SeqSchema.default(0),
        limit: z.coerce.number().int().min(1).max(PAGE_MAX).default(1000),
      }),
    },
    responses: {
      200: { description: 'A page of lines', ...json(LogPageSchema) },
      404: errorResponse('No such build, or not visible to the caller'),
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { after, limit } = c.req.valid('query');
    await loadBuild(c, id, 'viewer');
    const page = await buildSession(c.env, id).page(after, limit);
    return c.json(
      {
        lines: page.lines,
        next_after: page.lines.at(-1)?.seq ?? after,
        has_more: page.hasMore,
        end_status: page.status,
      },
      200,
    );
  },
);

/**
 * One line of the download. Colours and cursor movements stay in the stored log for viewers that
 * render them; in a text file they are noise.
 */
function textLine(line: LogLine): string {
  return `${formatLogLine({ ...line, text: stripAnsi(line.text) })}\n`;
}

/** The archived NDJSON as download text, a line at a time, without holding the whole log. */
function archiveAsText(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const format = (json: string) => textLine(LogLineSchema.parse(JSON.parse(json)));
  let pending = '';
  return body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(
      new TransformStream<string, string>({
        transform(chunk, controller) {
          const lines = (pending + chunk).split('\n');
          pending = lines.pop()!;
          for (const line of lines) if (line) controller.enqueue(format(line));
        },
        flush(controller) {
          if (pending) controller.enqueue(format(pending));
        },
      }),
    )
    .pipeThrough(new TextEncoderStream());
}

/** A running build's log as download text, read from its session a page at a time. */
function sessionAsText(env: Env, buildId: string): ReadableStream<Uint8Array> {
  const session = buildSession(env, buildId);
  const encoder = new TextEncoder();
  let after = 0;
  return new ReadableStream({
    async pull(controller) {
      const page = await session.page(after, DOWNLOAD_PAGE);
      if (page.lines.length > 0) {
        after = page.lines.at(-1)!.seq;
        const text = page.lines.map(textLine).join('');
        controller.enqueue(encoder.encode(text));
      }
      if (!page.hasMore) controller.close();
    },
  });
}

// Registered apart from its handler: typed routes must answer with a body they hold (a string
// for text/plain), and the download streams instead.
buildLogRoutes.openAPIRegistry.registerPath(
  createRoute({
    method: 'get',
    path: '/{id}/logs.txt',
    tags: ['builds'],
    summary: 'Download a build log as plain text',
    description:
      'One line per log line: `<ISO time> [<step id or ->] <stream>: <text>`, without terminal ' +
      'escape sequences (colours, cursor movement), which the JSON pages and the live stream ' +
      'keep. A finished build’s log comes from its archive; a running build’s log is what it ' +
      'has so far.',
    request: { params: BuildParams },
    responses: {
      200: { description: 'The log', content: { 'text/plain': { schema: z.string() } } },
      404: errorResponse('No such build, or not visible to the caller'),
      ...openApiErrorResponses,
    },
  }),
);

buildLogRoutes.get('/:id/logs.txt', async (c) => {
  const params = BuildParams.safeParse(c.req.param());
  if (!params.success) {
    throw new ApiError('validation_failed', 'The request failed validation', {
      fields: fieldErrors(params.error.issues),
    });
  }
  const { id } = params.data;
  await loadBuild(c, id, 'viewer');
  const archived = await c.env.LOGS.get(buildLogKey(id));
  const body = archived ? archiveAsText(archived.body) : sessionAsText(c.env, id);
  return c.body(body, 200, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Disposition': `attachment; filename="build-${id}.log"`,
  });
});
