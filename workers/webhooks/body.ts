import type { WebhookProvider } from '../../core/webhooks/signatures';
import { ApiError } from '../errors';

/** GitHub's own cap on a delivery; GitLab and Gitea send far less. */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

function tooLarge(): ApiError {
  return new ApiError(
    'payload_too_large',
    `Webhook bodies are limited to ${MAX_WEBHOOK_BYTES} bytes`,
  );
}

/**
 * The raw bytes the signature covers. A declared length over the cap is refused before reading;
 * an undeclared or understated one is counted while reading and cut off at the cap.
 */
export async function readCappedBody(
  request: Request,
  max = MAX_WEBHOOK_BYTES,
): Promise<Uint8Array<ArrayBuffer>> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > max) throw tooLarge();
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** The JSON text of a delivery; GitHub may be set to send it form-encoded as `payload=`. */
export function payloadJson(body: Uint8Array, contentType: string | undefined): unknown {
  let text = new TextDecoder().decode(body);
  if (contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    text = new URLSearchParams(text).get('payload') ?? '';
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError('bad_request', 'The delivery body is not JSON');
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const REPOSITORY_FIELDS: Record<WebhookProvider, { holder: string; urls: string[] }> = {
  github: { holder: 'repository', urls: ['clone_url', 'html_url', 'ssh_url'] },
  gitea: { holder: 'repository', urls: ['clone_url', 'html_url', 'ssh_url'] },
  gitlab: { holder: 'project', urls: ['git_http_url', 'web_url', 'git_ssh_url'] },
};

/**
 * Repository URLs of a delivery not yet verified: read only to find whose secret to check it
 * with, nothing else of the payload is used before the signature matches.
 */
export function repositoryUrls(provider: WebhookProvider, payload: unknown): string[] {
  const { holder, urls } = REPOSITORY_FIELDS[provider];
  const repository = isRecord(payload) ? payload[holder] : undefined;
  if (!isRecord(repository)) return [];
  return urls
    .map((field) => repository[field])
    .filter((url): url is string => typeof url === 'string' && url.length > 0);
}
