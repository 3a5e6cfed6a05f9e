import { ApiError } from './errors';
import { readMailbox } from './mail/mailer';
import { newRouter } from './router';

/** Local-only helpers; absent unless APP_ENV is development. */
export const devRoutes = newRouter();

devRoutes.get('/dev/mailbox/:email', async (c) => {
  if (c.env.APP_ENV !== 'development')
    throw new ApiError('not_found', `No route for GET ${c.req.path}`);
  return c.json({ messages: await readMailbox(c.env.LOGS, c.req.param('email')) });
});
