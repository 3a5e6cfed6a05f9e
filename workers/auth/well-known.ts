import { createRoute, z } from '@hono/zod-openapi';
import { signingKeys } from '../../platform/tokens/access-tokens';
import { json } from '../openapi';
import { newRouter } from '../router';

/** `/.well-known`, public: what others need to check our tokens. */
export const wellKnownApp = newRouter();

wellKnownApp.openapi(
  createRoute({
    method: 'get',
    path: '/jwks.json',
    tags: ['auth'],
    summary: 'Public keys that verify access tokens (all keys live during a rotation)',
    responses: {
      200: {
        description: 'JWK Set',
        ...json(z.object({ keys: z.array(z.record(z.string(), z.unknown())) })),
      },
    },
  }),
  async (c) => {
    const keys = await signingKeys(c.get('services').config.JWT_SIGNING_KEYS);
    c.header('Cache-Control', 'public, max-age=300');
    return c.json({ keys: keys.publicJwks }, 200);
  },
);
