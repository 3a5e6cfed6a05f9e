import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import getPort from 'get-port';

export interface ResendDouble {
  /** RESEND_BASE_URL for the client. */
  baseUrl: string;
  apiKey: string;
  close(): Promise<void>;
}

interface SentEmail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text?: string;
  html?: string;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const error = (res: ServerResponse, statusCode: number, name: string, message: string) =>
  json(res, statusCode, { statusCode, name, message });

/**
 * A stand-in for Resend's send-email API (https://resend.com/docs/api-reference/emails/send-email),
 * since no Resend runs here: `POST /emails` with a Bearer API key and `from`, `to` (a string or
 * up to 50), `subject` and `text` or `html`; `{ id }` on success; errors as
 * `{ statusCode, name, message }` (401 missing_api_key, 403 invalid_api_key, 422
 * validation_error). `GET /_test/emails?to=` lists what it accepted, for the tests.
 */
export async function startResendDouble(): Promise<ResendDouble> {
  const port = await getPort({ host: '127.0.0.1' });
  const apiKey = `re_${randomBytes(12).toString('hex')}`;
  const sent: SentEmail[] = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://resend');
    if (req.method === 'GET' && url.pathname === '/_test/emails') {
      const to = url.searchParams.get('to');
      return json(res, 200, { data: sent.filter((email) => !to || email.to.includes(to)) });
    }
    if (req.method !== 'POST' || url.pathname !== '/emails') {
      return error(res, 404, 'not_found', 'The requested endpoint does not exist.');
    }
    const auth = req.headers.authorization;
    if (!auth?.startsWith('Bearer '))
      return error(res, 401, 'missing_api_key', 'Missing API key in the authorization header.');
    if (auth.slice('Bearer '.length) !== apiKey)
      return error(res, 403, 'invalid_api_key', 'API key is invalid');
    const body = await readJson(req);
    const to = typeof body?.to === 'string' ? [body.to] : body?.to;
    if (
      typeof body?.from !== 'string' ||
      !Array.isArray(to) ||
      to.length === 0 ||
      to.length > 50 ||
      typeof body.subject !== 'string' ||
      (typeof body.text !== 'string' && typeof body.html !== 'string')
    ) {
      return error(
        res,
        422,
        'validation_error',
        'Invalid `from`, `to`, `subject`, or missing `text`/`html`.',
      );
    }
    const email: SentEmail = {
      id: randomUUID(),
      from: body.from,
      to: to as string[],
      subject: body.subject,
      ...(typeof body.text === 'string' ? { text: body.text } : {}),
      ...(typeof body.html === 'string' ? { html: body.html } : {}),
    };
    sent.push(email);
    return json(res, 200, { id: email.id });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    apiKey,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
