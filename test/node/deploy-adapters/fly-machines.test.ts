import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RateLimitedError, UnsupportedOperationError } from '../../../domain/deployments/adapters';
import { flyMachines } from '../../../domain/deployments/adapters/fly-machines';
import {
  type FakeProvider,
  HTML_BAD_GATEWAY,
  type Reply,
  startFakeProvider,
} from './fake-provider';

const APP = 'shop-api';
const TOKEN = 'fo1_fly_token';
const BASE = `/v1/apps/${APP}/machines`;

interface Machine {
  id: string;
  name: string;
  state: string;
  region: string;
  instance_id: string;
  config: { image: string; metadata?: Record<string, string> } & Record<string, unknown>;
}

let provider: FakeProvider;
let machines: Machine[];
let counter: number;
let outage: Reply | undefined;

const error = (status: number, message: string): Reply => ({ status, json: { error: message } });
const IMAGE = /^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$/;

/** Machines fail to boot from images whose tag is `broken`, as a crashing app would. */
function boot(machine: Machine) {
  machine.instance_id = `01INSTANCE${++counter}`;
  machine.state = machine.config.image.endsWith(':broken') ? 'failed' : 'started';
}

beforeAll(async () => {
  provider = await startFakeProvider((request) => {
    if (outage) return outage;
    if (request.headers.authorization !== `Bearer ${TOKEN}`) {
      return error(401, 'You must be authenticated to view this.');
    }
    if (!request.path.startsWith(BASE)) return error(404, 'app not found');
    const [, id, action] = request.path.slice(BASE.length).split('/');
    const machine = machines.find((candidate) => candidate.id === id);
    if (!id && request.method === 'GET') return { status: 200, json: machines };
    if (!id && request.method === 'POST') {
      const body = request.json as { region?: string; config?: Machine['config'] };
      if (!body.config?.image || !IMAGE.test(body.config.image)) {
        return error(422, 'invalid config.image');
      }
      const created: Machine = {
        id: `mach${++counter}`,
        name: `machine-${counter}`,
        state: 'created',
        region: body.region ?? 'ams',
        instance_id: '',
        config: body.config,
      };
      boot(created);
      machines.push(created);
      return { status: 200, json: created };
    }
    if (!machine) return error(404, 'machine not found');
    if (!action && request.method === 'POST') {
      const body = request.json as { config?: Machine['config'] };
      if (!body.config?.image || !IMAGE.test(body.config.image)) {
        return error(422, 'invalid config.image');
      }
      machine.config = body.config;
      boot(machine);
      return { status: 200, json: machine };
    }
    if (action === 'wait' && request.method === 'GET') {
      if (request.query.get('instance_id') !== machine.instance_id) {
        return error(400, 'instance_id does not match the current version');
      }
      if (machine.state !== request.query.get('state')) {
        return error(408, `machine did not reach state ${request.query.get('state')}`);
      }
      return { status: 200, json: { ok: true } };
    }
    return error(404, 'not found');
  });
});

afterAll(() => provider.close());

beforeEach(() => {
  machines = [];
  counter = 0;
  outage = undefined;
  provider.received.length = 0;
});

const target = (credentials: unknown = { apiToken: TOKEN }) => ({
  config: { appName: APP, region: 'ams', waitSeconds: 30, apiBase: provider.base },
  credentials,
  fetch: provider.fetch,
});
const request = (image: string, id = 'dep_1') => ({
  deploymentId: id,
  environment: 'production',
  stage: 'production' as const,
  strategy: 'all_at_once' as const,
  artifact: { buildId: 'bld_1', image },
});

describe('Fly.io Machines adapter', () => {
  it('creates the first Machine with the image, then waits for that version to start', async () => {
    const ref = await flyMachines.deploy(target(), request('registry.fly.io/shop-api:v1'));

    const [list, create, wait] = provider.received;
    expect(list).toMatchObject({ method: 'GET', path: BASE });
    expect(create).toMatchObject({ method: 'POST', path: BASE });
    expect(create!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(create!.json).toMatchObject({
      region: 'ams',
      config: {
        image: 'registry.fly.io/shop-api:v1',
        guest: { cpu_kind: 'shared', cpus: 1, memory_mb: 256 },
        services: [{ protocol: 'tcp', internal_port: 8080 }],
        metadata: { sparki_deployment: 'dep_1' },
      },
    });
    expect(wait!.path).toBe(`${BASE}/mach1/wait`);
    expect(Object.fromEntries(wait!.query)).toEqual({
      instance_id: '01INSTANCE2',
      state: 'started',
      timeout: '30',
    });
    expect(ref).toEqual({
      id: 'dep_1',
      url: 'https://shop-api.fly.dev',
      data: { image: 'registry.fly.io/shop-api:v1', machines: ['mach1'] },
    });
    expect(await flyMachines.status(target(), ref)).toEqual({
      state: 'live',
      url: 'https://shop-api.fly.dev',
    });
  });

  it('updates every existing Machine, keeps their config, and rolls back to the earlier image', async () => {
    const first = await flyMachines.deploy(target(), request('registry.fly.io/shop-api:v1'));
    machines.push({ ...structuredClone(machines[0]!), id: 'mach9' });
    provider.received.length = 0;

    const second = await flyMachines.deploy(
      target(),
      request('registry.fly.io/shop-api:v2', 'dep_2'),
    );
    const updates = provider.received.filter(
      (entry) => entry.method === 'POST' && entry.path.startsWith(`${BASE}/`),
    );
    expect(updates.map((entry) => entry.path)).toEqual([`${BASE}/mach1`, `${BASE}/mach9`]);
    expect(updates[0]!.json).toMatchObject({
      config: {
        image: 'registry.fly.io/shop-api:v2',
        services: [{ internal_port: 8080 }],
        metadata: { sparki_deployment: 'dep_2' },
      },
    });
    expect(second.data).toMatchObject({ previousImage: 'registry.fly.io/shop-api:v1' });
    expect(await flyMachines.status(target(), first)).toMatchObject({ state: 'superseded' });

    await flyMachines.rollback(target(), first);
    expect(machines.map((machine) => machine.config.image)).toEqual([
      'registry.fly.io/shop-api:v1',
      'registry.fly.io/shop-api:v1',
    ]);
    expect(await flyMachines.status(target(), first)).toMatchObject({ state: 'live' });
  });

  it('fails the deploy when a Machine does not start in time (documented 408)', async () => {
    await expect(
      flyMachines.deploy(target(), request('registry.fly.io/shop-api:broken')),
    ).rejects.toMatchObject({
      status: 408,
      message: expect.stringContaining('did not reach state'),
    });
    const ref = { id: 'dep_1', data: { image: 'registry.fly.io/shop-api:broken' } };
    expect(await flyMachines.status(target(), ref)).toMatchObject({ state: 'failed' });
  });

  it('passes on the documented { error } bodies', async () => {
    await expect(
      flyMachines.deploy(target({ apiToken: 'nope' }), request('registry.fly.io/a:b')),
    ).rejects.toMatchObject({
      status: 401,
      kind: 'unauthorized',
      message: expect.stringContaining('You must be authenticated'),
    });
    await expect(flyMachines.deploy(target(), request('not an image'))).rejects.toMatchObject({
      status: 422,
      kind: 'invalid',
      message: expect.stringContaining('invalid config.image'),
    });
  });

  it('handles 429 and non-JSON failures', async () => {
    outage = { ...error(429, 'rate limit exceeded'), headers: { 'retry-after': '2' } };
    const limited = await flyMachines
      .status(target(), { id: 'x' })
      .catch((caught: unknown) => caught);
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect((limited as RateLimitedError).retryAfterMs).toBe(2000);

    outage = HTML_BAD_GATEWAY;
    await expect(flyMachines.status(target(), { id: 'x' })).rejects.toMatchObject({
      kind: 'unavailable',
      message: expect.stringContaining('non-JSON answer'),
    });
  });

  it('needs an image and an app name it can use; has no promote', async () => {
    const noImage = {
      field: 'artifact.image',
      message:
        'Fly.io Machines runs a container image and the build has none: set ' +
        'deploy_config.image to the reference the build pushes, e.g. ' +
        'registry.example.com/app:{commit_sha}',
    };
    expect(
      flyMachines.validate({ appName: 'Shop_API' }, { apiToken: TOKEN }, { buildId: 'b' }),
    ).toEqual([
      {
        field: 'config.appName',
        message: expect.stringMatching(/^invalid setting appName: a Fly app name uses lowercase/),
      },
      noImage,
    ]);
    expect(flyMachines.validate({ appName: APP }, { apiToken: TOKEN }, { buildId: 'b' })).toEqual([
      noImage,
    ]);
    expect(
      flyMachines.validate(
        { appName: APP },
        { apiToken: TOKEN },
        { buildId: 'b', image: 'registry.fly.io/shop-api:v1' },
      ),
    ).toEqual([]);
    await expect(flyMachines.promote(target(), { id: 'x' })).rejects.toBeInstanceOf(
      UnsupportedOperationError,
    );
  });
});
