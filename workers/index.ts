// First: it extends zod with `.openapi()`, which zod 4 gives only to schemas made after it, and
// the routers call it on schemas that core/ modules make as they load.
import '@hono/zod-openapi';
import { handleQueue } from '../queues';
import { newApp } from './app';
import { handleScheduled } from './scheduled';

export { BuildSession } from '../durable-objects/build-session';
export { RunnerHub } from '../durable-objects/runner-hub';

const app = newApp();

export default {
  fetch: app.fetch,
  queue: handleQueue,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Env>;
