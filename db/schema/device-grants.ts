import { index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { apiTokens } from './api-tokens';
import { createdAt, id, timestamptz } from './columns';
import { deviceGrantStatus } from './enums';
import { users } from './users';
import { workspaces } from './workspaces';

// The OAuth 2.0 Device Authorization Grant (RFC 8628) behind `sparki login`: a device (the CLI)
// asks for a code, a signed-in user approves its short user code in the dashboard, and the device's
// next poll turns the approval into a personal access token, once. Only the device code's hash is
// kept; the user code is short, typed by people, and dies with the grant.
export const deviceGrants = pgTable(
  'device_grants',
  {
    ...id,
    deviceCodeHash: text('device_code_hash').notNull().unique('device_grants_device_code_hash_key'),
    userCode: text('user_code').notNull().unique('device_grants_user_code_key'),
    // What is asking, as the device named itself (e.g. "sparki CLI on laptop") and as it was seen.
    clientName: text('client_name').notNull(),
    requestIp: text('request_ip'),
    requestUserAgent: text('request_user_agent'),
    status: deviceGrantStatus('status').notNull().default('pending'),
    // Filled in by the approval: who, for which workspace and scope the token will be.
    userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
    workspaceId: uuid('workspace_id').references(() => workspaces.id, { onDelete: 'cascade' }),
    scope: text('scope'),
    apiTokenId: uuid('api_token_id').references(() => apiTokens.id, { onDelete: 'set null' }),
    // Polling: the least number of seconds between two polls, raised on each slow_down.
    pollInterval: integer('poll_interval').notNull(),
    lastPolledAt: timestamptz('last_polled_at'),
    expiresAt: timestamptz('expires_at').notNull(),
    decidedAt: timestamptz('decided_at'),
    ...createdAt,
  },
  (t) => [index('device_grants_expires_at_idx').on(t.expiresAt)],
);

export type DeviceGrant = typeof deviceGrants.$inferSelect;
