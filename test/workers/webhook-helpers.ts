// The examples the tests use, taken from @octokit/webhooks-examples (api.github.com): the whole
// collection is over 4 MB, past what the Workers test runner can hand a test file in one message.
import { hmacSha256Hex } from '../../core/digest';
import examples from '../fixtures/webhooks/github-examples.json';

export type Provider = 'github' | 'gitlab' | 'gitea';
export type Payload = Record<string, unknown>;

export function githubExample(
  name: string,
  pick: (payload: Payload) => boolean = () => true,
): Payload {
  const found = examples
    .find((entry) => entry.name === name)
    ?.examples.find((example) => pick(example as unknown as Payload));
  if (!found) throw new Error(`No GitHub example ${name}`);
  return structuredClone(found) as unknown as Payload;
}

/** The provider's payload, pointed at the test project's repository. */
export function atRepo(provider: Provider, payload: unknown, repoUrl: string): Payload {
  const copy = structuredClone(payload) as Payload;
  const path = new URL(repoUrl).pathname.slice(1);
  if (provider === 'gitlab') {
    copy.project = {
      ...(copy.project as Payload),
      git_http_url: `${repoUrl}.git`,
      web_url: repoUrl,
      git_ssh_url: `git@gitlab.example.com:${path}.git`,
    };
  } else {
    copy.repository = {
      ...(copy.repository as Payload),
      clone_url: `${repoUrl}.git`,
      html_url: repoUrl,
      ssh_url: `git@${new URL(repoUrl).host}:${path}.git`,
    };
  }
  return copy;
}

/** A random 40-hex commit id: a distinct push each time. */
export function randomSha(): string {
  return [...crypto.getRandomValues(new Uint8Array(20))]
    .map((byte) => byte.toString(16).padStart(2, '0'))
    .join('');
}

export async function signatureHeaders(
  provider: Provider,
  secret: string,
  body: string,
): Promise<Record<string, string>> {
  switch (provider) {
    case 'github':
      return { 'x-hub-signature-256': `sha256=${await hmacSha256Hex(secret, body)}` };
    case 'gitea':
      return { 'x-gitea-signature': await hmacSha256Hex(secret, body) };
    case 'gitlab':
      return { 'x-gitlab-token': secret };
  }
}

export function deliveryHeaders(
  provider: Provider,
  event: string,
  id: string,
): Record<string, string> {
  switch (provider) {
    case 'github':
      return { 'x-github-event': event, 'x-github-delivery': id };
    case 'gitea':
      return { 'x-gitea-event': event, 'x-gitea-delivery': id };
    case 'gitlab':
      return { 'x-gitlab-event': event, 'x-gitlab-event-uuid': id };
  }
}
