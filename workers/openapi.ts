import type { z } from '@hono/zod-openapi';

/** A JSON response (or body) description for createRoute. */
export const json = <T extends z.ZodType>(schema: T) => ({
  content: { 'application/json': { schema } },
});

/** A required JSON request body for createRoute. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  body: { ...json(schema), required: true },
});

/** A timestamp column as the API writes it: ISO 8601, or null. */
export const iso = (date: Date | null) => date?.toISOString() ?? null;
