import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import getPort from 'get-port';
import { Redis } from 'ioredis';

export interface RedisHandle {
  url: string;
  source: 'env' | 'spawned';
  stop(): Promise<void>;
}

const READY_ATTEMPTS = 50;
const READY_INTERVAL_MS = 100;
const STOP_GRACE_MS = 5_000;
const OUTPUT_LIMIT = 4_096;

/**
 * `REDIS_URL` when set, else a throwaway `redis-server` from PATH on a free port (no persistence).
 * Resolves to null when neither exists, so the caller can report Redis as absent.
 */
export async function startRedis(opts: { dataDir: string }): Promise<RedisHandle | null> {
  const url = process.env.REDIS_URL;
  if (url) return { url, source: 'env', stop: async () => {} };
  const binary = await findOnPath('redis-server');
  if (!binary) return null;
  await mkdir(opts.dataDir, { recursive: true });
  return spawnRedis(binary, opts.dataDir);
}

async function findOnPath(name: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return null;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function spawnRedis(binary: string, dataDir: string): Promise<RedisHandle> {
  const port = await getPort({ host: '127.0.0.1' });
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir];
  // No RDB snapshots or AOF: the server is throwaway.
  args.push('--save', '', '--appendonly', 'no');
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = captureOutput(child);
  // A parent that exits without stop() (process.exit, a crash) must not leave the server behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    await stopProcess(child);
  };
  const url = `redis://127.0.0.1:${port}`;
  try {
    await waitUntilReady(child, url, output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, source: 'spawned', stop };
}

function captureOutput(child: ChildProcess): () => string {
  let output = '';
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return () => output;
}

async function waitUntilReady(child: ChildProcess, url: string, output: () => string) {
  let lastError = 'no attempt made';
  for (let attempt = 0; attempt < READY_ATTEMPTS; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited before accepting connections:\n${output()}`);
    }
    try {
      await ping(url);
      return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, READY_INTERVAL_MS));
  }
  throw new Error(`redis-server at ${url} did not answer PING (${lastError}):\n${output()}`);
}

async function ping(url: string): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } finally {
    redis.disconnect();
  }
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const forceKill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(forceKill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
