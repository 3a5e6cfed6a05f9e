import { z } from 'zod';

export const BUILDS_QUEUE = 'sparki-builds';
export const DEPLOYMENTS_QUEUE = 'sparki-deployments';

export const BuildsMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('build.requested'), buildId: z.uuid() }),
]);
export type BuildsMessage = z.infer<typeof BuildsMessageSchema>;
