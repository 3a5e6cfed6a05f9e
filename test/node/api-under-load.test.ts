import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiCaller, newRepoProject, signUpAndLogIn } from './e2e-helpers';
import {
  type ChildEnv,
  type RunningStack,
  STARTUP_TIMEOUT_MS,
  startStackOnFreePort,
  stopStack,
} from './stack';

const CONCURRENT = 100;
const ROUNDS = 3;

interface Answer {
  status: number;
  body: string;
  retryAfter: string | null;
}

/** One request; a dropped connection becomes status 0 with the error as its body. */
async function ask(url: string, token: string): Promise<Answer> {
  try {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    return {
      status: response.status,
      body: await response.text(),
      retryAfter: response.headers.get('retry-after'),
    };
  } catch (error) {
    return { status: 0, body: String(error), retryAfter: null };
  }
}

/** A refusal the API documents for load: the shared envelope, with a `Retry-After`. */
function isDocumentedRefusal(answer: Answer): boolean {
  if (answer.status !== 503 && answer.status !== 429) return false;
  const body = JSON.parse(answer.body) as { error?: { code?: string; message?: string } };
  return (
    typeof body.error?.code === 'string' &&
    typeof body.error.message === 'string' &&
    Number(answer.retryAfter) > 0
  );
}

describe('authenticated reads under concurrent load (the real local stack)', () => {
  let stateDir: string;
  let stack: RunningStack & { port: number };
  let base: string;
  const { DATABASE_URL: _db, REDIS_URL: _redis, ...env }: ChildEnv = process.env;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'sparki-load-'));
    stack = await startStackOnFreePort(stateDir, env);
    base = `http://127.0.0.1:${stack.port}`;
  }, STARTUP_TIMEOUT_MS);
  afterAll(async () => {
    if (stack) await stopStack(stack);
    await rm(stateDir, { recursive: true, force: true });
  });

  it(`answers ${CONCURRENT} concurrent GET /api/projects/{id} with 200 or a documented refusal`, async () => {
    const token = await signUpAndLogIn(base, `load-${randomUUID().slice(0, 8)}@example.com`);
    const api = apiCaller(base, () => token);
    const workspace = await api<{ id: string }>('POST', '/api/workspaces', {
      name: 'Load',
      slug: `load-${randomUUID().slice(0, 8)}`,
    });
    const { project } = await newRepoProject(api, {
      workspaceId: workspace.id,
      stateDir,
      slug: 'load',
      files: { 'index.html': 'ok' },
    });
    const url = `${base}/api/projects/${project.id}`;
    const answers: Answer[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      answers.push(
        ...(await Promise.all(Array.from({ length: CONCURRENT }, () => ask(url, token)))),
      );
    }
    const wrong = answers.filter((a) => a.status !== 200 && !isDocumentedRefusal(a));
    const summary = wrong
      .slice(0, 5)
      .map((a) => `${a.status} ${a.body.slice(0, 300)}`)
      .join('\n');
    // The Worker's own error lines say why; wrangler's access lines would bury them.
    const errors = stack
      .output()
      .split('\n')
      .filter((line) => /error/i.test(line) && !line.startsWith('[wrangler:info]'))
      .slice(-20)
      .join('\n');
    expect(wrong.length, `${summary}\n--- errors in the stack's log:\n${errors}`).toBe(0);
    // Refusing everything would also pass the check above: once the burst is over, a read is
    // served again. How many get through the burst itself depends on the machine's load (on a
    // saturated CI machine it can be none), so that is the bench's figure, not a check here.
    expect((await ask(url, token)).status).toBe(200);
  }, 300_000);
});
