import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { builds, deployments, domains, environments, projects, workspaces } from '../../db/schema';
import worker from '../../workers/index';
import { testDb } from './harness';
import { storeFiles } from './tar-fixture';

const { db, pool } = testDb();
afterAll(() => pool.end());

async function request(url: string, init?: RequestInit) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(url, init), env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/**
 * Uploads files the way the deploy engine does (blobs by hash, a manifest), or as a runner's batch
 * does (`packed`: one pack, the manifest pointing into it), and records a deployment.
 */
async function deploy(
  projectId: string,
  environmentId: string,
  buildId: string,
  files: Record<string, string>,
  packed = false,
) {
  // The fixture's paths are the output's, relative.
  const relative = Object.entries(files).map(([path, text]) => [path.slice(1), text]);
  const manifest = await storeFiles(Object.fromEntries(relative), packed ? db : undefined);
  const [row] = await db
    .insert(deployments)
    .values({
      projectId,
      buildId,
      environmentId,
      stage: 'production',
      platform: 'edge',
      status: 'live',
    })
    .returning();
  const manifestKey = `manifests/${row!.id}.json`;
  await env.SITES.put(manifestKey, JSON.stringify(manifest));
  await db.update(deployments).set({ manifestKey }).where(eq(deployments.id, row!.id));
  return row!;
}

async function project() {
  const suffix = crypto.randomUUID().slice(0, 8);
  const [workspace] = await db
    .insert(workspaces)
    .values({ name: 'Host', slug: `host-${suffix}` })
    .returning();
  const [created] = await db
    .insert(projects)
    .values({ workspaceId: workspace!.id, name: 'Shop', slug: 'shop', hostLabel: `shop-${suffix}` })
    .returning();
  const [production] = await db
    .insert(environments)
    .values({ projectId: created!.id, name: 'production', kind: 'production' })
    .returning();
  const [build] = await db
    .insert(builds)
    .values({
      projectId: created!.id,
      number: 1,
      commitSha: 'a'.repeat(40),
      trigger: 'manual',
      status: 'succeeded',
    })
    .returning();
  return {
    project: created!,
    production: production!,
    build: build!,
    host: `shop-${suffix}.localhost`,
  };
}

describe('the edge host', () => {
  it('serves a deployment on its own host and production on the project host', async () => {
    const { project: p, production, build, host } = await project();
    const first = await deploy(p.id, production.id, build.id, { '/index.html': 'v1' });
    const second = await deploy(p.id, production.id, build.id, { '/index.html': 'v2' });

    expect(await (await request(`http://${first.label}--${host}/`)).text()).toBe('v1');
    expect(await (await request(`http://${second.label}--${host}/`)).text()).toBe('v2');
    expect((await request(`http://${host}/`)).status).toBe(404);

    await db
      .update(environments)
      .set({ liveDeploymentId: first.id })
      .where(eq(environments.id, production.id));
    expect(await (await request(`http://${host}/`)).text()).toBe('v1');
    // Promote / roll back are the pointer moving: nothing is uploaded again.
    await db
      .update(environments)
      .set({ liveDeploymentId: second.id })
      .where(eq(environments.id, production.id));
    expect(await (await request(`http://${host}/`)).text()).toBe('v2');
  });

  it('serves files kept in a pack, each from its own range, and reads the site’s rules from it', async () => {
    const { project: p, production, build, host } = await project();
    const marker = crypto.randomUUID();
    const live = await deploy(
      p.id,
      production.id,
      build.id,
      {
        '/index.html': `<h1>${marker}</h1>`,
        '/app.js': `console.log("${marker}")`,
        '/_redirects': `# ${marker}\n/old /index.html 301`,
        '/_headers': `/app.js\n  x-marker: ${marker}`,
      },
      true,
    );
    const url = `http://${live.label}--${host}`;
    expect(await (await request(`${url}/`)).text()).toBe(`<h1>${marker}</h1>`);
    const script = await request(`${url}/app.js`);
    expect(await script.text()).toBe(`console.log("${marker}")`);
    expect(script.headers.get('content-length')).toBe(String(`console.log("${marker}")`.length));
    expect(script.headers.get('x-marker')).toBe(marker);
    const moved = await request(`${url}/old`, { redirect: 'manual' });
    expect(moved.status).toBe(301);
    expect(moved.headers.get('location')).toBe('/index.html');
  });

  it('serves production on a custom domain, and leaves unknown hosts to the platform', async () => {
    const { project: p, production, build } = await project();
    const live = await deploy(p.id, production.id, build.id, { '/index.html': 'custom' });
    await db
      .update(environments)
      .set({ liveDeploymentId: live.id })
      .where(eq(environments.id, production.id));
    const hostname = `www-${crypto.randomUUID().slice(0, 8)}.acme.example`;
    await db.insert(domains).values({ projectId: p.id, hostname, verifiedAt: new Date() });
    expect(await (await request(`https://${hostname}/`)).text()).toBe('custom');

    const platform = await request('http://unknown.example/healthz');
    expect(platform.status).toBe(200);
    expect((await request('http://127.0.0.1:8787/healthz')).status).toBe(200);
  });

  it('answers for an unverified custom domain exactly as for an unknown host', async () => {
    const { project: p, production, build } = await project();
    const live = await deploy(p.id, production.id, build.id, { '/index.html': 'claimed' });
    await db
      .update(environments)
      .set({ liveDeploymentId: live.id })
      .where(eq(environments.id, production.id));
    const hostname = `www-${crypto.randomUUID().slice(0, 8)}.acme.example`;
    const [domain] = await db.insert(domains).values({ projectId: p.id, hostname }).returning();

    const unverified = await request(`https://${hostname}/`);
    const unknown = await request(`https://unknown-${crypto.randomUUID().slice(0, 8)}.example/`);
    expect(unverified.status).toBe(unknown.status);
    const { error } = (await unknown.json()) as { error: unknown };
    expect(await unverified.json()).toMatchObject({ error });
    expect((await request(`https://${hostname}/healthz`)).status).toBe(200);

    await db.update(domains).set({ verifiedAt: new Date() }).where(eq(domains.id, domain!.id));
    expect(await (await request(`https://${hostname}/`)).text()).toBe('claimed');
  });

  it('answers 404 for a deployment label that does not exist', async () => {
    const { host } = await project();
    const response = await request(`http://nope123--${host}/`);
    expect(response.status).toBe(404);
    expect(await response.text()).toBe('No deployment is live here');
  });

  it('splits production traffic for a canary, sticky per visitor', async () => {
    const { project: p, production, build, host } = await project();
    const stable = await deploy(p.id, production.id, build.id, { '/index.html': 'stable' });
    const canary = await deploy(p.id, production.id, build.id, { '/index.html': 'canary' });
    await db
      .update(environments)
      .set({ liveDeploymentId: stable.id, canaryDeploymentId: canary.id, canaryPercent: 20 })
      .where(eq(environments.id, production.id));
    const seen: string[] = [];
    for (let i = 0; i < 200; i++) {
      const visitor = `visitor-${i}`;
      const body = await (
        await request(`http://${host}/`, { headers: { cookie: `sparki_visitor=${visitor}` } })
      ).text();
      seen.push(body);
      if (i < 20) {
        const again = await (
          await request(`http://${host}/`, { headers: { cookie: `sparki_visitor=${visitor}` } })
        ).text();
        expect(again).toBe(body);
      }
    }
    const share = seen.filter((body) => body === 'canary').length / seen.length;
    expect(share).toBeGreaterThan(0.1);
    expect(share).toBeLessThan(0.3);

    const fresh = await request(`http://${host}/`);
    expect(fresh.headers.get('set-cookie')).toMatch(/^sparki_visitor=/);
  });
});
