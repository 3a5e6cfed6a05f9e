import type { WebhookProvider } from '../../core/webhooks/signatures';
import { ApiError } from '../../platform/errors';

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
export function deliveryText(body: Uint8Array, contentType: string | undefined): string {
  const text = new TextDecoder().decode(body);
  return contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')
    ? (new URLSearchParams(text).get('payload') ?? '')
    : text;
}

/** The verified delivery's JSON, parsed once. */
export function parseDelivery(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError('bad_request', 'The delivery body is not JSON');
  }
}

/** Distinct repository URLs looked up for one unverified delivery, at most. */
const MAX_SCANNED_URLS = 8;
const MAX_URL_LENGTH = 2048;

/** `"<field>": "<JSON string>"` for any of the fields. */
function urlFieldPattern(...fields: string[]): RegExp {
  return new RegExp(
    `"(?:${fields.join('|')})"\\s*:\\s*("(?:[^"\\\\\\u0000-\\u001f]|\\\\.){1,${MAX_URL_LENGTH}}")`,
    'g',
  );
}

// Fields only repository objects have: `html_url` and `web_url` also name users and pull requests,
// whose URLs would crowd the repository's out of the MAX_SCANNED_URLS looked up.
const REPOSITORY_URL_PATTERNS: Record<WebhookProvider, RegExp> = {
  github: urlFieldPattern('clone_url', 'ssh_url'),
  gitea: urlFieldPattern('clone_url', 'ssh_url'),
  gitlab: urlFieldPattern('git_http_url', 'git_ssh_url'),
};

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Repository URLs of a delivery not yet verified, to find whose secret to check it with. The text
 * is scanned for the providers' URL fields (`"clone_url": "…"`), not parsed: a forged body costs
 * one pass over its bytes, and nothing of it is used before the signature matches. A URL field
 * of a nested object (a fork's) only adds a project whose secret will not match.
 */
export function repositoryUrls(provider: WebhookProvider, text: string): string[] {
  const urls = new Set<string>();
  // matchAll runs on a copy of the pattern, so the shared one keeps no lastIndex between calls.
  for (const match of text.matchAll(REPOSITORY_URL_PATTERNS[provider])) {
    const url = stringLiteral(match[1]!);
    if (url !== undefined && !CONTROL.test(url)) urls.add(url);
    if (urls.size === MAX_SCANNED_URLS) break;
  }
  return [...urls];
}

/** A JSON string literal's value; undefined for a malformed escape. */
function stringLiteral(literal: string): string | undefined {
  try {
    return JSON.parse(literal) as string;
  } catch {
    return undefined;
  }
}
