import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis';
import { Redis as IORedis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RedisBridge, startRedisBridge } from '../../dev/redis-bridge';
import { startRedis } from '../../dev/redis-server';

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const TOKEN = `token-${randomUUID()}`;
const PREFIX = `sparki-test:redis-bridge:${randomUUID()}:`;

let bridge: RedisBridge;
let direct: Redis;
let pipelined: Redis;
let admin: IORedis;
let keyCount = 0;

const key = (name: string) => `${PREFIX}${name}:${keyCount++}`;
const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
const base64 = (text: string) => Buffer.from(text).toString('base64');
const BASE64 = { 'upstash-encoding': 'base64' };

function post(path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${bridge.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, ...headers },
    body,
  });
}

async function errorOf(res: Response): Promise<unknown> {
  return ((await res.json()) as { error?: unknown }).error;
}

async function deleteTestKeys(redis: IORedis) {
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
}

beforeAll(async () => {
  bridge = await startRedisBridge({ redisUrl: REDIS_URL, token: TOKEN });
  // One client sends each command on its own (POST /), the other auto-pipelines as in production.
  direct = new Redis({ url: bridge.url, token: TOKEN, enableAutoPipelining: false });
  pipelined = new Redis({ url: bridge.url, token: TOKEN });
  admin = new IORedis(REDIS_URL);
});

afterAll(async () => {
  await deleteTestKeys(admin);
  await admin.quit();
  await bridge.close();
});

describe('Upstash REST bridge with @upstash/redis', () => {
  it('sets with EX and reports the TTL', async () => {
    const k = key('ex');
    expect(await direct.set(k, 'value', { ex: 100 })).toBe('OK');
    expect(await direct.get(k)).toBe('value');
    const ttl = await direct.ttl(k);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(100);
  });

  it('expires a PX key after its lifetime', async () => {
    const k = key('px');
    await direct.set(k, 'short-lived', { px: 150 });
    expect(await direct.get(k)).toBe('short-lived');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await direct.get(k)).toBeNull();
  });

  it('increments counters', async () => {
    const k = key('counter');
    expect(await direct.incr(k)).toBe(1);
    expect(await direct.incr(k)).toBe(2);
    expect(await direct.incrby(k, 5)).toBe(7);
  });

  it('round-trips JSON values', async () => {
    const k = key('json');
    const value = { id: 42, name: 'build', tags: ['a', 'b'], nested: { ok: true, none: null } };
    await direct.set(k, value);
    expect(await direct.get(k)).toEqual(value);
  });

  it('round-trips unicode, control characters and base64-looking strings exactly', async () => {
    const values = ['héllo wörld 🌍 日本語', 'nul\u0000tab\tnewline\n"quoted"\\', 'OK', 'T0s=', ''];
    for (const value of values) {
      const k = key('text');
      await direct.set(k, value);
      expect(await direct.get(k)).toBe(value);
    }
  });

  it('keeps RESP2 reply shapes (flat HGETALL and WITHSCORES arrays)', async () => {
    const hash = key('hash');
    await direct.hset(hash, { field: 'text', count: 3 });
    expect(await direct.hgetall(hash)).toEqual({ field: 'text', count: 3 });
    const zset = key('zset');
    await direct.zadd(zset, { score: 1.5, member: 'm' }, { score: 2, member: 'n' });
    expect(await direct.zrange(zset, 0, -1, { withScores: true })).toEqual(['m', 1.5, 'n', 2]);
  });

  it('runs a pipeline in order and reports per-command errors', async () => {
    const text = key('p-text');
    const counter = key('p-counter');
    const results = await direct.pipeline().set(text, 'a').incr(counter).get(text).exec();
    expect(results).toEqual(['OK', 1, 'a']);

    const withError = await direct
      .pipeline()
      .set(text, 'not-a-number')
      .incr(text)
      .get(text)
      .exec({ keepErrors: true });
    expect(withError.map((entry) => entry.error)).toEqual([
      undefined,
      'ERR value is not an integer or out of range',
      undefined,
    ]);
    expect(withError[2]?.result).toBe('not-a-number');
  });

  it('auto-pipelines concurrent commands', async () => {
    const k = key('auto');
    const [set, incr, value] = await Promise.all([
      pipelined.set(k, 10),
      pipelined.incr(k),
      pipelined.get<number>(k),
    ]);
    expect([set, incr, value]).toEqual(['OK', 11, 11]);
  });

  it('runs MULTI/EXEC transactions', async () => {
    const text = key('m-text');
    const counter = key('m-counter');
    expect(await direct.multi().set(text, 'a').incr(counter).get(text).exec()).toEqual([
      'OK',
      1,
      'a',
    ]);
  });

  it('reports a failing command inside a transaction while the others stay applied', async () => {
    const text = key('m-fail');
    await expect(direct.multi().set(text, 'x').incr(text).exec()).rejects.toThrow(
      /Command 2 \[ incr \] failed: ERR value is not an integer/,
    );
    expect(await direct.get(text)).toBe('x');
  });

  it('answers EXECABORT when a transaction command cannot be queued, running none', async () => {
    const text = key('m-abort');
    const res = await post('/multi-exec', JSON.stringify([['SET', text, 'v'], ['NOSUCHCOMMAND']]));
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatch(/^EXECABORT/);
    expect(await direct.get(text)).toBeNull();
  });

  it('evaluates Lua with keys and arguments', async () => {
    const k = key('eval');
    const script = "return {KEYS[1], ARGV[1], redis.call('INCRBY', KEYS[1], ARGV[2])}";
    expect(await direct.eval(script, [k], ['hello', 5])).toEqual([k, 'hello', 5]);
  });

  it('strips the #!lua shebang and maps EVALSHA of the original script', async () => {
    const marker = randomUUID();
    const script = `#!lua flags=allow-key-locking\nreturn ARGV[1] .. '${marker}'`;
    const sha = sha1(script);
    await expect(direct.evalsha(sha, [], ['x'])).rejects.toThrow(/NOSCRIPT/);
    expect(await direct.eval(script, [], ['x'])).toBe(`x${marker}`);
    expect(await direct.evalsha(sha, [], ['y'])).toBe(`y${marker}`);
  });

  it('answers SCRIPT LOAD with the sha of the script as sent', async () => {
    const marker = randomUUID();
    const script = `#!lua flags=allow-key-locking\nreturn '${marker}'`;
    const sha = sha1(script);
    expect(await direct.scriptLoad(script)).toBe(sha);
    expect(await direct.scriptExists(sha)).toEqual([1]);
    expect(await direct.evalsha(sha, [], [])).toBe(marker);
  });

  it('rejects with the Redis error message', async () => {
    const k = key('not-int');
    await direct.set(k, 'abc');
    await expect(direct.incr(k)).rejects.toThrow(/ERR value is not an integer or out of range/);
  });

  it('rejects a client with the wrong token', async () => {
    const intruder = new Redis({ url: bridge.url, token: 'wrong', enableAutoPipelining: false });
    await expect(intruder.get(key('secret'))).rejects.toThrow(/Unauthorized/);
  });
});

describe('Upstash REST bridge over raw HTTP', () => {
  it('answers 401 without a bearer token', async () => {
    const res = await fetch(bridge.url, { method: 'POST', body: '["PING"]' });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'Unauthorized' });
  });

  it('encodes strings as base64 only when asked, numbers and null raw', async () => {
    const k = key('raw');
    const set = await post('/', JSON.stringify(['SET', k, 'héllo']), BASE64);
    expect(await set.json()).toEqual({ result: base64('OK') });
    const commands = [
      ['GET', k],
      ['STRLEN', k],
      ['GET', `${k}:none`],
    ];
    const encoded = await post('/pipeline', JSON.stringify(commands), BASE64);
    expect(await encoded.json()).toEqual([
      { result: base64('héllo') },
      { result: 6 },
      { result: null },
    ]);
    const plain = await post('/', JSON.stringify(['GET', k]));
    expect(await plain.json()).toEqual({ result: 'héllo' });
  });

  it('returns binary values byte-exact in base64', async () => {
    const k = key('binary');
    const bytes = Buffer.from([0xff, 0x00, 0x80, 0x0a]);
    await admin.set(k, bytes);
    const res = await post('/', JSON.stringify(['GET', k]), BASE64);
    expect(await res.json()).toEqual({ result: bytes.toString('base64') });
  });

  it('encodes nested arrays recursively, nested errors as { error }', async () => {
    const script = "return {'a', {1, 'b'}, redis.error_reply('boom')}";
    const res = await post('/', JSON.stringify(['EVAL', script, '0']), BASE64);
    expect(await res.json()).toEqual({
      result: [base64('a'), [1, base64('b')], { error: 'ERR boom' }],
    });
  });

  it('answers 400 with an error envelope for bad JSON and non-command bodies', async () => {
    for (const body of ['{not json', '{"cmd":"GET"}', '[]', '[1, 2]', '["GET", {"k": 1}]']) {
      const res = await post('/', body);
      expect(res.status).toBe(400);
      expect(typeof (await errorOf(res))).toBe('string');
    }
  });

  it('refuses commands that would change the shared connection', async () => {
    const res = await post('/', JSON.stringify(['MULTI']));
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatch(/not supported/);
  });

  it('answers 404 for unknown paths', async () => {
    const res = await post('/get/foo', '["GET","foo"]');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'Not Found' });
  });

  it('answers 413 for bodies over 10 MB, declared or streamed', async () => {
    const declared = await post(
      '/',
      JSON.stringify(['SET', key('big'), 'x'.repeat(10 * 1024 * 1024)]),
    );
    expect(declared.status).toBe(413);
    expect(await errorOf(declared)).toMatch(/exceeds/);

    const megabyte = new TextEncoder().encode('x'.repeat(1024 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 11) controller.enqueue(megabyte);
        else controller.close();
      },
    });
    const streamed = await fetch(bridge.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await errorOf(streamed)).toMatch(/exceeds/);
  });
});

describe('@upstash/ratelimit through the bridge', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('allows 3 requests per window, blocks the 4th, and reuses scripts via EVALSHA', async () => {
    const limiter = new Ratelimit({
      redis: pipelined,
      limiter: Ratelimit.slidingWindow(3, '10 s'),
      prefix: `${PREFIX}ratelimit`,
      ephemeralCache: false,
      analytics: false,
    });
    const commands: string[] = [];
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
      commands.push(...commandNames(init?.body));
      return realFetch(input, init);
    });
    const exhaust = async (identifier: string) => {
      const results = [];
      for (let i = 0; i < 4; i++) {
        const result = await limiter.limit(identifier);
        await result.pending;
        results.push(result);
      }
      return results;
    };

    const first = await exhaust('user-1');
    expect(first.map((r) => r.success)).toEqual([true, true, true, false]);
    expect(first[3]?.remaining).toBe(0);
    // The bridge has not seen the script yet: NOSCRIPT, then the EVAL fallback.
    expect(commands).toContain('eval');

    commands.length = 0;
    const second = await exhaust('user-2');
    expect(second.map((r) => r.success)).toEqual([true, true, true, false]);
    expect(second[3]?.remaining).toBe(0);
    expect(commands).toContain('evalsha');
    expect(commands).not.toContain('eval');
  });
});

function commandNames(body: unknown): string[] {
  if (typeof body !== 'string') return [];
  const parsed: unknown[] = JSON.parse(body);
  const commands = Array.isArray(parsed[0]) ? (parsed as unknown[][]) : [parsed];
  return commands.map((command) => String(command[0]).toLowerCase());
}

describe('startRedis', () => {
  it('returns REDIS_URL as is when set', async () => {
    vi.stubEnv('REDIS_URL', 'redis://example.invalid:6390');
    try {
      const handle = await startRedis({ dataDir: join(tmpdir(), 'unused') });
      expect(handle?.url).toBe('redis://example.invalid:6390');
      expect(handle?.source).toBe('env');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('spawns redis-server; once it is gone the bridge answers 503 and refuses to start', async () => {
    vi.stubEnv('REDIS_URL', undefined);
    const dataDir = await mkdtemp(join(tmpdir(), 'sparki-redis-'));
    const handle = await startRedis({ dataDir: join(dataDir, 'nested') });
    try {
      if (!handle) throw new Error('redis-server was not found on PATH');
      expect(handle.source).toBe('spawned');
      const port = Number(new URL(handle.url).port);
      expect(port).not.toBe(6379);

      const client = new IORedis(handle.url);
      expect(await client.ping()).toBe('PONG');
      await client.quit();

      const own = await startRedisBridge({ redisUrl: handle.url, token: TOKEN });
      await handle.stop();
      expect(await acceptsConnections(port)).toBe(false);

      const res = await fetch(own.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: '["PING"]',
        signal: AbortSignal.timeout(5_000),
      });
      expect(res.status).toBe(503);
      expect(await errorOf(res)).toMatch(/Redis unavailable/);

      await own.close();
      expect(await acceptsConnections(Number(new URL(own.url).port))).toBe(false);
      await expect(startRedisBridge({ redisUrl: handle.url, token: TOKEN })).rejects.toThrow(
        /cannot connect .*ECONNREFUSED/,
      );
    } finally {
      vi.unstubAllEnvs();
      await handle?.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
