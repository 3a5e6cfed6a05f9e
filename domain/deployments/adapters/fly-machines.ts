// Fly.io Machines REST API (https://api.machines.dev, `Authorization: Bearer <token>`,
// errors `{ "error": "…" }`).
// Working with the API: https://fly.io/docs/machines/api/working-with-machines-api/
// Machines resource (list, create, update, wait): https://fly.io/docs/machines/api/machines-resource/
// Machine states: https://fly.io/docs/machines/machine-states/
import { z } from 'zod';
import { AdapterValidationError, type Context, defineAdapter } from './adapter';
import { call, type ErrorReader, jsonRequest, readJson } from './http';
import type { ProviderRef, ProviderStatus } from './types';

const configSchema = z.object({
  appName: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/,
      'a Fly app name uses lowercase letters, digits and dashes, 3 to 63 characters',
    ),
  /** Where to create the first Machine; later deploys update Machines where they are. */
  region: z
    .string()
    .regex(/^[a-z]{3}$/, 'a Fly region code like ams')
    .optional(),
  internalPort: z.number().int().min(1).max(65535).default(8080),
  cpus: z.number().int().min(1).max(16).default(1),
  memoryMb: z.number().int().min(256).default(256),
  /** How long one Machine may take to reach `started` (the wait endpoint allows up to 60 s). */
  waitSeconds: z.number().int().min(1).max(60).default(60),
  publicUrl: z.url().optional(),
  apiBase: z.url().default('https://api.machines.dev'),
});
type Config = z.infer<typeof configSchema>;

const credentialsSchema = z.object({
  apiToken: z.string().min(1),
});
type Credentials = z.infer<typeof credentialsSchema>;
type Ctx = Context<Config, Credentials>;

interface Machine {
  id: string;
  state: string;
  instance_id: string;
  config: { image: string; metadata?: Record<string, string> } & Record<string, unknown>;
}

const readError: ErrorReader = (body) => {
  const { error } = body as { error?: unknown };
  return typeof error === 'string' ? { message: error } : undefined;
};

async function send<T>(ctx: Ctx, method: string, path: string, body?: unknown): Promise<T> {
  const response = await call(
    { provider: 'fly_machines', fetch: ctx.fetch, readError },
    jsonRequest(
      `${ctx.config.apiBase}/v1/apps/${ctx.config.appName}/machines${path}`,
      method,
      { authorization: `Bearer ${ctx.credentials.apiToken}` },
      body,
    ),
  );
  return readJson<T>('fly_machines', response);
}

function publicUrl(config: Config): string {
  return config.publicUrl ?? `https://${config.appName}.fly.dev`;
}

function newMachineConfig(config: Config, image: string, deploymentId: string) {
  return {
    image,
    guest: { cpu_kind: 'shared', cpus: config.cpus, memory_mb: config.memoryMb },
    services: [
      {
        protocol: 'tcp',
        internal_port: config.internalPort,
        ports: [
          { port: 80, handlers: ['http'] },
          { port: 443, handlers: ['tls', 'http'] },
        ],
      },
    ],
    metadata: { sparki_deployment: deploymentId },
  };
}

/**
 * Points every Machine of the app at `image` (creating one if the app has none), then waits for
 * each new version (`instance_id`) to be started. The previous image is kept on the ref so a
 * rollback can put it back.
 */
async function rollOut(ctx: Ctx, image: string, deploymentId: string): Promise<ProviderRef> {
  const machines = (await send<Machine[]>(ctx, 'GET', '')).filter(
    (machine) => machine.state !== 'destroyed' && machine.state !== 'destroying',
  );
  const updated: Machine[] = [];
  if (machines.length === 0) {
    updated.push(
      await send<Machine>(ctx, 'POST', '', {
        ...(ctx.config.region ? { region: ctx.config.region } : {}),
        config: newMachineConfig(ctx.config, image, deploymentId),
      }),
    );
  }
  for (const machine of machines) {
    updated.push(
      await send<Machine>(ctx, 'POST', `/${machine.id}`, {
        config: {
          ...machine.config,
          image,
          metadata: { ...machine.config.metadata, sparki_deployment: deploymentId },
        },
      }),
    );
  }
  for (const machine of updated) {
    const query = new URLSearchParams({
      instance_id: machine.instance_id,
      state: 'started',
      timeout: String(ctx.config.waitSeconds),
    });
    await send(ctx, 'GET', `/${machine.id}/wait?${query}`);
  }
  return {
    id: deploymentId,
    url: publicUrl(ctx.config),
    data: {
      image,
      machines: updated.map((machine) => machine.id),
      ...(machines[0] ? { previousImage: machines[0].config.image } : {}),
    },
  };
}

export const flyMachines = defineAdapter<Config, Credentials>({
  id: 'fly_machines',
  name: 'Fly.io Machines',
  docsUrl: 'https://fly.io/docs/machines/api/machines-resource/',
  capabilities: {
    strategies: ['all_at_once'],
    promote: 'none',
    rollback: 'redeploy',
    traffic: 'strategy',
    image: 'required',
  },
  configSchema,
  credentialsSchema,
  targetKey: (config) => `${config.apiBase}/v1/apps/${config.appName}`,
  deploy: (ctx, request) => rollOut(ctx, request.artifact.image!, request.deploymentId),
  async status(ctx, ref): Promise<ProviderStatus> {
    const url = publicUrl(ctx.config);
    const machines = (await send<Machine[]>(ctx, 'GET', '')).filter(
      (machine) => machine.state !== 'destroyed',
    );
    const image = ref.data?.image;
    if (machines.some((machine) => machine.config.image !== image)) {
      return { state: 'superseded', url };
    }
    if (machines.some((machine) => machine.state === 'failed')) {
      return { state: 'failed', url, detail: 'a Machine failed to start' };
    }
    if (machines.length > 0 && machines.every((machine) => machine.state === 'started')) {
      return { state: 'live', url };
    }
    return { state: 'in_progress', url };
  },
  async rollback(ctx, to) {
    const image = to.data?.image;
    if (typeof image !== 'string') {
      throw new AdapterValidationError('fly_machines', [
        { field: 'to.data.image', message: 'the deployment to roll back to has no recorded image' },
      ]);
    }
    return rollOut(ctx, image, to.id);
  },
});
