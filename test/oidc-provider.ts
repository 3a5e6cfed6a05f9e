import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import getPort from 'get-port';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type ClientMetadata } from 'oidc-provider';

export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

interface TestAccount {
  email: string;
  email_verified: boolean;
  name: string;
}

const LOGIN_PATH = /^\/interaction\/([\w-]+)\/login$/;

async function readForm(req: IncomingMessage) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * A real OpenID Provider (node-oidc-provider) for the Worker's sign-in tests, on a loopback
 * port. Only its login page is replaced: `POST /interaction/:uid/login` with the account's
 * claims as form fields plays the person typing at the provider; discovery, authorization,
 * PKCE, the token endpoint, ID token signing, JWKS and UserInfo are the library's own.
 */
export async function startOidcProvider(redirectUri: string): Promise<TestOidcProvider> {
  const port = await getPort({ host: '127.0.0.1' });
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = 'sparki-test';
  const clientSecret = randomUUID();
  const accounts = new Map<string, TestAccount>();
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-rs256', alg: 'RS256' };

  const client: ClientMetadata = {
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  };
  const provider = new Provider(issuer, {
    clients: [
      client,
      // `<id>-hs256`: ID tokens signed with the client secret instead of a key in the JWKS,
      // which the Worker must refuse.
      { ...client, client_id: `${clientId}-hs256`, id_token_signed_response_alg: 'HS256' },
    ],
    jwks: { keys: [signingKey] },
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'HS256'] },
    cookies: { keys: [randomUUID()] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      const account = accounts.get(sub);
      return account && { accountId: sub, claims: async () => ({ sub, ...account }) };
    },
    // Sparki is this provider's first-party client: sign-in needs no consent screen.
    async loadExistingGrant(ctx) {
      const { client, account, session } = ctx.oidc;
      const grantId = session?.grantIdFor(client!.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: client!.clientId,
        accountId: account!.accountId,
      });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });

  const handle = provider.callback();
  const login = async (req: IncomingMessage, res: ServerResponse) => {
    const form = await readForm(req);
    const sub = form.get('sub');
    if (!sub) {
      res.writeHead(400).end('sub is required');
      return;
    }
    accounts.set(sub, {
      email: form.get('email') ?? '',
      email_verified: form.get('email_verified') === 'true',
      name: form.get('name') ?? sub,
    });
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: sub } },
      { mergeWithLastSubmission: false },
    );
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    if (req.method === 'POST' && LOGIN_PATH.test(path)) {
      login(req, res).catch((error: Error) => {
        res.writeHead(400).end(error.message);
      });
      return;
    }
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

  return {
    issuer,
    clientId,
    clientSecret,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
