import { ApiError } from '../platform/errors';
import { readMailbox } from '../platform/mail/mailer';
import { newRouter } from './router';

/** `/dev`, local-only helpers: 404 unless APP_ENV is development (production is the default). */
export const devApp = newRouter();

devApp.get('/mailbox/:email', async (c) => {
  if (c.get('services').config.APP_ENV !== 'development')
    throw new ApiError('not_found', `No route for GET ${c.req.path}`);
  return c.json({ messages: await readMailbox(c.env.LOGS, c.req.param('email')) });
});
