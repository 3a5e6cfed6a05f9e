import { createRoute, z } from '@hono/zod-openapi';
import { toCsv } from '../../../core/csv';
import { fromBase64Url, toBase64Url } from '../../../core/secret-box';
import { type AuditCursor, auditPage } from '../../../domain/workspaces/audit-log';
import { ApiError } from '../../../platform/errors';
import { authorizeWorkspace } from '../../auth/authorize';
import { openApiErrorResponses } from '../../errors';
import { newRouter } from '../../router';

export const AUDIT_PAGE_DEFAULT = 50;
export const AUDIT_PAGE_MAX = 200;
export const AUDIT_CSV_MAX = 10_000;

const AuditQuerySchema = z.object({
  action: z.string().max(100).optional().openapi({ example: 'member.role_changed' }),
  actor_id: z.uuid().optional(),
  target_type: z.string().max(50).optional(),
  target_id: z.string().max(200).optional(),
  result: z.enum(['success', 'failure', 'denied']).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(AUDIT_CSV_MAX).optional(),
  format: z.enum(['json', 'csv']).default('json'),
});

const AuditEntrySchema = z
  .object({
    id: z.uuid(),
    created_at: z.iso.datetime(),
    actor_id: z.uuid().nullable(),
    actor_email: z.string().nullable(),
    actor_role: z.string().nullable(),
    action: z.string(),
    target_type: z.string().nullable(),
    target_id: z.string().nullable(),
    result: z.enum(['success', 'failure', 'denied']),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    request_id: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
  })
  .openapi('AuditEntry');

const AuditPageSchema = z
  .object({ entries: z.array(AuditEntrySchema), next_cursor: z.string().nullable() })
  .openapi('AuditPage');

type AuditEntry = z.infer<typeof AuditEntrySchema>;
const CSV_COLUMNS = Object.keys(AuditEntrySchema.shape) as (keyof AuditEntry)[];

const CursorSchema = z.object({ at: z.string().min(1).max(64), id: z.uuid() });

function encodeCursor(cursor: AuditCursor): string {
  return toBase64Url(new TextEncoder().encode(JSON.stringify(cursor)));
}

function decodeCursor(text: string): AuditCursor {
  try {
    return CursorSchema.parse(JSON.parse(new TextDecoder().decode(fromBase64Url(text))));
  } catch {
    throw new ApiError('validation_failed', 'Invalid cursor', { cursor: ['invalid cursor'] });
  }
}

/** `/api/workspaces/{id}/audit-log`. */
export const auditLogRoutes = newRouter();

auditLogRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/audit-log',
    tags: ['audit'],
    summary: 'Audit log, newest first, with filters and cursor pagination (admin)',
    description:
      '`format=csv` exports the same page as CSV (up to 10,000 rows per request); the next ' +
      'cursor is then in the `X-Next-Cursor` header. Entries are append-only.',
    request: { params: z.object({ id: z.uuid() }), query: AuditQuerySchema },
    responses: {
      200: {
        description: 'A page of entries',
        content: {
          'application/json': { schema: AuditPageSchema },
          'text/csv': { schema: z.string() },
        },
      },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const query = c.req.valid('query');
    await authorizeWorkspace(c, id, 'admin');
    const maximum = query.format === 'csv' ? AUDIT_CSV_MAX : AUDIT_PAGE_MAX;
    const limit = Math.min(query.limit ?? AUDIT_PAGE_DEFAULT, maximum);

    const { entries: page, next } = await auditPage(
      c.get('services').db(),
      id,
      {
        action: query.action,
        actorId: query.actor_id,
        targetType: query.target_type,
        targetId: query.target_id,
        result: query.result,
        since: query.since ? new Date(query.since) : undefined,
        until: query.until ? new Date(query.until) : undefined,
      },
      query.cursor ? decodeCursor(query.cursor) : undefined,
      limit,
    );
    const nextCursor = next ? encodeCursor(next) : null;
    const entries: AuditEntry[] = page.map(({ entry, actorEmail }) => ({
      id: entry.id,
      created_at: entry.createdAt.toISOString(),
      actor_id: entry.actorId,
      actor_email: actorEmail,
      actor_role: entry.actorRole,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId,
      result: entry.result,
      ip: entry.ip,
      user_agent: entry.userAgent,
      request_id: entry.requestId,
      metadata: entry.metadata,
    }));

    if (query.format === 'csv') {
      const csv = toCsv(
        CSV_COLUMNS,
        entries.map((entry) =>
          CSV_COLUMNS.map((column) =>
            column === 'metadata' ? JSON.stringify(entry.metadata) : entry[column],
          ),
        ),
      );
      return c.body(csv, 200, {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="sparki-audit-${id}.csv"`,
        ...(nextCursor ? { 'X-Next-Cursor': nextCursor } : {}),
      });
    }
    return c.json({ entries, next_cursor: nextCursor }, 200);
  },
);
