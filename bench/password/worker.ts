import { hashPassword, PASSWORD_PARAMS, verifyPassword } from '../../platform/password';

/** `GET /?m=19456&t=2` hashes once with those parameters (and verifies); `/noop` does nothing. */
export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/noop') return new Response('ok');
    const params = {
      ...PASSWORD_PARAMS,
      memorySize: Number(url.searchParams.get('m') ?? PASSWORD_PARAMS.memorySize),
      passes: Number(url.searchParams.get('t') ?? PASSWORD_PARAMS.passes),
    };
    const hash = await hashPassword('correct horse battery staple', params);
    if (url.searchParams.has('verify')) await verifyPassword('correct horse battery staple', hash);
    return new Response(hash);
  },
};
