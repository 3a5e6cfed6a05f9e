import { Redis } from '@upstash/redis/cloudflare';

const clients = new Map<string, Redis>();

/**
 * One REST client per Redis for the isolate's lifetime: building one costs more CPU than the
 * command it sends (a proxy and a closure per command), and it holds no I/O object, so requests
 * may share it. Auto-pipelining is off: it would join commands of different requests into one
 * fetch, which belongs to the request that sent it.
 */
export function redisClient(url: string, token: string): Redis {
  const key = `${url}\n${token}`;
  let client = clients.get(key);
  if (!client) {
    client = new Redis({ url, token, enableTelemetry: false, enableAutoPipelining: false });
    clients.set(key, client);
  }
  return client;
}
