import type { z } from 'zod';
import type { TaskContext } from '../platform/services';

export type Consumer = (body: unknown, context: TaskContext) => Promise<void>;

/** A body that fails its schema will never succeed, so it is not worth a retry. */
export class InvalidMessageError extends Error {
  constructor(readonly issues: readonly z.core.$ZodIssue[]) {
    super('Queue message failed validation');
  }
}

export function validated<T>(
  schema: z.ZodType<T>,
  handle: (message: T, context: TaskContext) => Promise<void>,
): Consumer {
  return async (body, context) => {
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new InvalidMessageError(parsed.error.issues);
    await handle(parsed.data, context);
  };
}
