import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Role } from '../../../core/roles';
import { findEnvironment } from '../../../domain/environments/environments';
import { loadResource } from '../../auth/authorize';
import type { HonoEnv } from '../../context';

/** `/api/environments/{id}/…` */
export const EnvironmentParams = z.object({ id: z.uuid() });

/** The environment named by the path, if the caller holds `minimum` on its project. */
export function loadEnvironment(c: Context<HonoEnv>, id: string, minimum: Role) {
  return loadResource(c, 'Environment', (db) => findEnvironment(db, id), minimum);
}
