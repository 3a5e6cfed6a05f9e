import { z } from '@hono/zod-openapi';

/** `/api/environments/{id}/…` */
export const EnvironmentParams = z.object({ id: z.uuid() });
