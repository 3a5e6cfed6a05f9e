import { OpenAPIHono } from '@hono/zod-openapi';
import type { HonoEnv } from './context';
import { handleZodError } from './errors';

/** A sub-app with the shared validation hook; every router starts here. */
export function newRouter() {
  return new OpenAPIHono<HonoEnv>({ defaultHook: handleZodError });
}
