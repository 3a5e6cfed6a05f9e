import type { RunnerIdentity } from '../platform/durable-objects';

/** What the hub keeps on each runner's hibernatable socket. */
export interface Attachment extends RunnerIdentity {
  /** Said hello: jobs may be offered to it. */
  ready: boolean;
  lastSeenWrittenAt: number;
  /** The repositories it was last told to poll (`watchKey`), so only a change is sent. */
  watching?: string;
}

export function attachmentOf(ws: WebSocket): Attachment | undefined {
  return (ws.deserializeAttachment() as Attachment | null) ?? undefined;
}

/** A socket being closed by the hub no longer counts as the runner's connection. */
export function detach(ws: WebSocket) {
  ws.serializeAttachment(null);
}

/** The runners that said hello, each with its connection. */
export function readyRunners(ctx: DurableObjectState): (RunnerIdentity & { ws: WebSocket })[] {
  const connected = new Map<string, RunnerIdentity & { ws: WebSocket }>();
  for (const ws of ctx.getWebSockets()) {
    const attachment = attachmentOf(ws);
    if (attachment?.ready) connected.set(attachment.runnerId, { ...attachment, ws });
  }
  return [...connected.values()];
}
