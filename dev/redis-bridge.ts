import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis, ReplyError } from 'ioredis';

export interface RedisBridgeOptions {
  redisUrl: string;
  token: string;
  port?: number;
  host?: string;
}

export interface RedisBridge {
  url: string;
  token: string;
  close(): Promise<void>;
}

type Command = [string, ...string[]];
type Encoded = string | number | null | { error: string } | Encoded[];
type Outcome = { result: Encoded } | { error: string };
type Reply = { status: number; body: unknown };

interface Prepared {
  args: Command;
  // SCRIPT LOAD must answer with the sha of the script the client sent, not of the stripped one.
  loadedSha?: string;
}

interface BridgeContext {
  redis: Redis;
  tokenDigest: Buffer;
  strippedShaByOriginal: Map<string, string>;
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;
const LUA_SHEBANG = /^#!lua[^\n]*/;
// These change the state of the one shared connection and would leak into every other request.
const DENIED_COMMANDS = new Set([
  'AUTH',
  'DISCARD',
  'EXEC',
  'HELLO',
  'MONITOR',
  'MULTI',
  'PSUBSCRIBE',
  'PUNSUBSCRIBE',
  'QUIT',
  'RESET',
  'SELECT',
  'SSUBSCRIBE',
  'SUBSCRIBE',
  'SUNSUBSCRIBE',
  'UNSUBSCRIBE',
  'UNWATCH',
  'WATCH',
]);

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Route = (ctx: BridgeContext, body: unknown, base64: boolean) => Promise<Reply>;

const ROUTES: Record<string, Route> = {
  '/': runSingle,
  '/pipeline': runPipeline,
  '/multi-exec': runTransaction,
};

export async function startRedisBridge(opts: RedisBridgeOptions): Promise<RedisBridge> {
  if (!opts.token) throw new Error('startRedisBridge: token must not be empty');
  const redis = await connectRedis(opts.redisUrl);
  const ctx: BridgeContext = {
    redis,
    tokenDigest: sha256(opts.token),
    strippedShaByOriginal: new Map(),
  };
  const server = createServer((req, res) => {
    handleRequest(ctx, req, res).catch((error: unknown) => sendUnexpected(res, error));
  });
  try {
    await listen(server, opts.port ?? 0, opts.host ?? '127.0.0.1');
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  return {
    url: serverUrl(server),
    token: opts.token,
    close: () => closeBridge(server, redis),
  };
}

async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    // RESP2 gives the reply shapes the Upstash REST API (and its clients) expect.
    protocol: 2,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
  });
  let lastError: unknown;
  // Later connection errors surface as 503 answers; unheard, ioredis would log every retry.
  redis.on('error', (error) => {
    lastError = error;
  });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new Error(`Redis bridge cannot connect to ${url}: ${errorMessage(lastError ?? error)}`);
  }
  return redis;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function serverUrl(server: Server): string {
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return `http://${host}:${port}`;
}

async function closeBridge(server: Server, redis: Redis): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
  if (redis.status === 'ready') {
    await redis.quit().catch(() => redis.disconnect());
  } else {
    redis.disconnect();
  }
}

async function handleRequest(
  ctx: BridgeContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const route = ROUTES[(req.url ?? '/').split('?')[0] ?? '/'];
  if (!route) return send(res, 404, { error: 'Not Found' });
  if (req.method !== 'POST') return send(res, 405, { error: 'Method Not Allowed' });
  if (!isAuthorized(req.headers.authorization, ctx.tokenDigest)) {
    return send(res, 401, { error: 'Unauthorized' });
  }
  try {
    const body = parseJson(await readBody(req));
    const reply = await route(ctx, body, wantsBase64(req));
    send(res, reply.status, reply.body);
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    send(res, error.status, { error: error.message });
  }
}

function isAuthorized(header: string | undefined, tokenDigest: Buffer): boolean {
  const match = /^Bearer (.+)$/i.exec(header ?? '');
  if (!match?.[1]) return false;
  // Comparing digests keeps the buffers equal-length, so the token length does not leak either.
  return timingSafeEqual(sha256(match[1]), tokenDigest);
}

function wantsBase64(req: IncomingMessage): boolean {
  const header = req.headers['upstash-encoding'];
  return typeof header === 'string' && header.toLowerCase() === 'base64';
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > MAX_BODY_BYTES) {
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // Drain the rest unread so the client finishes its upload and gets the 413, not an EPIPE.
        req.off('data', onData);
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    req.once('close', () => reject(new HttpError(400, 'Request body was not completed')));
  });
}

function tooLarge(): HttpError {
  return new HttpError(413, `Request body exceeds ${MAX_BODY_BYTES} bytes`);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new HttpError(400, `ERR invalid JSON body: ${errorMessage(error)}`);
  }
}

function toCommand(value: unknown): Command {
  if (!Array.isArray(value) || value.length === 0 || typeof value[0] !== 'string') {
    throw new HttpError(400, 'ERR a command must be a non-empty JSON array starting with its name');
  }
  const args = value.map((arg: unknown) => {
    if (typeof arg === 'string') return arg;
    if (typeof arg === 'number' || typeof arg === 'boolean') return String(arg);
    throw new HttpError(400, 'ERR command arguments must be strings, numbers or booleans');
  });
  return args as Command;
}

function toCommands(value: unknown): Command[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new HttpError(400, 'ERR body must be a non-empty JSON array of commands');
  }
  return value.map(toCommand);
}

async function runSingle(ctx: BridgeContext, body: unknown, base64: boolean): Promise<Reply> {
  const prepared = prepareCommand(ctx, toCommand(body));
  const settled = await settle(ctx.redis.callBuffer(...prepared.args));
  if (!settled.ok) return { status: 400, body: failure(settled.error) };
  return {
    status: 200,
    body: { result: encodeReply(adaptReply(prepared, settled.value), base64) },
  };
}

async function runPipeline(ctx: BridgeContext, body: unknown, base64: boolean): Promise<Reply> {
  const prepared = toCommands(body).map((command) => prepareCommand(ctx, command));
  const pipeline = ctx.redis.pipeline();
  for (const { args } of prepared) pipeline.callBuffer(...args);
  return execBatch(prepared, pipeline.exec(), base64);
}

async function runTransaction(ctx: BridgeContext, body: unknown, base64: boolean): Promise<Reply> {
  const prepared = toCommands(body).map((command) => prepareCommand(ctx, command));
  const transaction = ctx.redis.multi();
  for (const { args } of prepared) transaction.callBuffer(...args);
  // Runtime errors come back per command (the others stay applied, as in Redis); a command rejected
  // while queueing makes EXEC fail with EXECABORT, answered as a request-level 400.
  return execBatch(prepared, transaction.exec(), base64);
}

async function execBatch(
  prepared: Prepared[],
  execution: Promise<[Error | null, unknown][] | null>,
  base64: boolean,
): Promise<Reply> {
  const settled = await settle(execution);
  if (!settled.ok) return { status: 400, body: failure(settled.error) };
  if (!settled.value) return { status: 400, body: { error: 'EXECABORT Transaction discarded' } };
  return { status: 200, body: toOutcomes(prepared, settled.value, base64) };
}

async function settle<T>(
  promise: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

function toOutcomes(
  prepared: Prepared[],
  results: [Error | null, unknown][],
  base64: boolean,
): Outcome[] {
  return results.map(([error, reply], i) => {
    if (error) return failure(error);
    return { result: encodeReply(adaptReply(prepared[i]!, reply), base64) };
  });
}

// Redis errors become the client's `{ error }`; anything else means Redis itself is unreachable.
function failure(error: unknown): { error: string } {
  if (error instanceof ReplyError) return { error: errorMessage(error) };
  throw new HttpError(503, `Redis unavailable: ${errorMessage(error)}`);
}

function encodeReply(reply: unknown, base64: boolean): Encoded {
  if (reply === null || typeof reply === 'number') return reply;
  // Status and bulk replies both arrive as bytes (ioredis cannot tell them apart), so "OK" is
  // encoded too; @upstash/redis decodes it either way, and nested ones only when encoded.
  if (reply instanceof Uint8Array) {
    const bytes = Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength);
    return bytes.toString(base64 ? 'base64' : 'utf8');
  }
  if (Array.isArray(reply)) return reply.map((item) => encodeReply(item, base64));
  if (reply instanceof Error) return { error: reply.message };
  throw new Error(`Unsupported Redis reply of type ${typeof reply}`);
}

function prepareCommand(ctx: BridgeContext, [rawName, ...args]: Command): Prepared {
  const name = rawName.toUpperCase();
  if (DENIED_COMMANDS.has(name)) {
    throw new HttpError(400, `ERR command '${rawName}' is not supported by the Redis bridge`);
  }
  // Upper-case names also bypass ioredis's name-keyed reply transformers (HGETALL -> object).
  const command: Command = [name, ...args];
  switch (name) {
    case 'EVAL':
    case 'EVAL_RO':
      if (args[0] !== undefined) command[1] = registerScript(ctx, args[0]).script;
      return { args: command };
    case 'EVALSHA':
    case 'EVALSHA_RO':
      if (args[0] !== undefined) command[1] = translateSha(ctx, args[0]);
      return { args: command };
    case 'SCRIPT':
      return prepareScriptCommand(ctx, command);
    default:
      return { args: command };
  }
}

function prepareScriptCommand(ctx: BridgeContext, command: Command): Prepared {
  const subcommand = command[1]?.toUpperCase();
  const script = command[2];
  if (subcommand === 'LOAD' && script !== undefined) {
    const registered = registerScript(ctx, script);
    command[2] = registered.script;
    return { args: command, loadedSha: registered.originalSha };
  }
  if (subcommand === 'EXISTS') {
    command.splice(2, Infinity, ...command.slice(2).map((sha) => translateSha(ctx, sha)));
  }
  return { args: command };
}

// Redis 7.0 rejects flags it does not know (e.g. allow-key-locking from @upstash/ratelimit), so the
// shebang goes; its line stays, empty, to keep Lua error line numbers right.
function registerScript(
  ctx: BridgeContext,
  original: string,
): { script: string; originalSha: string } {
  const originalSha = sha1(original);
  if (!LUA_SHEBANG.test(original)) return { script: original, originalSha };
  const script = original.replace(LUA_SHEBANG, '');
  ctx.strippedShaByOriginal.set(originalSha, sha1(script));
  return { script, originalSha };
}

// An unknown sha goes through untouched so Redis answers NOSCRIPT and the client falls back to EVAL.
function translateSha(ctx: BridgeContext, sha: string): string {
  return ctx.strippedShaByOriginal.get(sha.toLowerCase()) ?? sha;
}

function adaptReply(prepared: Prepared, reply: unknown): unknown {
  return prepared.loadedSha && Buffer.isBuffer(reply) ? Buffer.from(prepared.loadedSha) : reply;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

function sendUnexpected(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  send(res, 500, { error: `Redis bridge failure: ${errorMessage(error)}` });
}

function sha1(text: string): string {
  return createHash('sha1').update(text, 'utf8').digest('hex');
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
