import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { auditLogs, domains } from '../../db/schema';
import { DnsLookupError, dohTxtResolver } from '../../domain/domains/dns';
import worker from '../../workers/index';
import { as } from './api-client';
import { newUser } from './auth-helpers';
import { drain, siteDeployer } from './deploy-helpers';
import { DOH_URL, dohDouble } from './doh-double';
import { testDb } from './harness';
import { addMember, projectFixture } from './project-fixtures';

const { db, pool } = testDb();
afterAll(() => pool.end());
afterEach(() => vi.restoreAllMocks());

interface DomainBody {
  id: string;
  hostname: string;
  status: 'pending' | 'verified';
  verified_at: string | null;
  verification: { type: 'TXT'; name: string; value: string };
}

const withDoh = { env: { DNS_OVER_HTTPS_URL: DOH_URL } };

/** Every request for the resolver goes to `doh`, from this test and the Worker alike. */
function routeDns(doh: ReturnType<typeof dohDouble>) {
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
    const request = new Request(input, init);
    return doh.handles(request.url) ? doh.fetch(request) : realFetch(request);
  });
}

async function setup() {
  const fixture = await projectFixture();
  const developer = await newUser('dev');
  const viewer = await newUser('viewer');
  await addMember(db, fixture.workspace.id, developer.email, 'developer');
  await addMember(db, fixture.workspace.id, viewer.email, 'viewer');
  const base = `/api/projects/${fixture.project.id}/domains`;
  const hostname = `www.site-${crypto.randomUUID().slice(0, 8)}.example.com`;
  return { ...fixture, developer, viewer, base, hostname };
}

describe('DNS-over-HTTPS TXT lookups', () => {
  it('reads split TXT strings, treats NXDOMAIN as none, and fails on a resolver error', async () => {
    const doh = dohDouble();
    const value = `sparki-verify=${'x'.repeat(50)}`;
    doh.txt.set('_sparki-challenge.a.example', [value, 'other']);
    const resolve = dohTxtResolver(DOH_URL, doh.fetch);
    expect(await resolve('_sparki-challenge.a.example')).toEqual([value, 'other']);
    expect(await resolve('missing.example')).toEqual([]);
    doh.setDown(true);
    await expect(resolve('_sparki-challenge.a.example')).rejects.toBeInstanceOf(DnsLookupError);
    const unreachable = dohTxtResolver(DOH_URL, () => Promise.reject(new TypeError('offline')));
    await expect(unreachable('a.example')).rejects.toThrow(/could not be reached: offline/);
  });
});

describe('custom domains API', () => {
  it('adds a domain pending verification, verifies its TXT record, then serves and removes it', async () => {
    const { owner, viewer, base, hostname, workspace } = await setup();
    const added = await as(owner).post<DomainBody>(base, {
      hostname: ` ${hostname.toUpperCase()}. `,
    });
    expect(added.status, added.text).toBe(201);
    const domain = added.body;
    expect(domain).toMatchObject({
      hostname,
      status: 'pending',
      verified_at: null,
      verification: {
        type: 'TXT',
        name: `_sparki-challenge.${hostname}`,
        value: expect.stringMatching(/^sparki-verify=[0-9a-f]{32}$/),
      },
    });
    const listed = await as(viewer).get<{ domains: DomainBody[] }>(base);
    expect(listed.body.domains).toEqual([domain]);

    const doh = dohDouble();
    routeDns(doh);
    // Not there yet: still pending, with what was found.
    doh.txt.set(domain.verification.name, ['sparki-verify=someone-else']);
    const early = await as(owner, withDoh).post<{
      verified: boolean;
      found: string[];
      domain: DomainBody;
    }>(`${base}/${domain.id}/verify`);
    expect(early.status, early.text).toBe(200);
    expect(early.body).toMatchObject({
      verified: false,
      found: ['sparki-verify=someone-else'],
      domain: { status: 'pending' },
    });
    expect(doh.asked).toEqual([domain.verification.name]);

    doh.txt.set(domain.verification.name, ['unrelated', domain.verification.value]);
    const verified = await as(owner, withDoh).post<{ verified: boolean; domain: DomainBody }>(
      `${base}/${domain.id}/verify`,
    );
    expect(verified.body).toMatchObject({
      verified: true,
      domain: { status: 'verified', verified_at: expect.any(String) },
    });

    const audits = await db
      .select({ action: auditLogs.action, result: auditLogs.result })
      .from(auditLogs)
      .where(and(eq(auditLogs.workspaceId, workspace.id), eq(auditLogs.targetId, domain.id)))
      .orderBy(auditLogs.createdAt);
    expect(audits).toEqual([
      { action: 'domain.added', result: 'success' },
      { action: 'domain.verification_checked', result: 'failure' },
      { action: 'domain.verification_checked', result: 'success' },
    ]);

    const removed = await as(owner).delete(`${base}/${domain.id}`);
    expect(removed.status, removed.text).toBe(200);
    expect(await db.select().from(domains).where(eq(domains.id, domain.id))).toEqual([]);
    expect((await as(owner).delete(`${base}/${domain.id}`)).status).toBe(404);
  });

  it('refuses invalid host names, the platform’s own hosts and a domain already taken', async () => {
    const { owner, base, hostname } = await setup();
    for (const bad of ['not a host', '10.0.0.1', 'localhost', 'shop.localhost']) {
      const response = await as(owner).post<{ error: { code: string; message: string } }>(base, {
        hostname: bad,
      });
      expect(response.status, bad).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
    }
    expect((await as(owner).post(base, {})).status).toBe(400);
    expect((await as(owner).post(base, { hostname, extra: 1 })).status).toBe(400);
    const added = await as(owner).post<DomainBody>(base, { hostname });
    expect(added.status).toBe(201);
    const again = await as(owner).post<{ error: { message: string } }>(base, { hostname });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toBe(`${hostname} is already a domain of this project`);

    const other = await setup();
    const claimed = await as(other.owner).post<{ error: { message: string } }>(other.base, {
      hostname,
    });
    expect(claimed.status).toBe(409);
    expect(claimed.body.error.message).toContain('has not verified it');
    await db.update(domains).set({ verifiedAt: new Date() }).where(eq(domains.id, added.body.id));
    const taken = await as(other.owner).post<{ error: { message: string } }>(other.base, {
      hostname,
    });
    expect(taken.status).toBe(409);
    expect(taken.body.error.message).toBe(`${hostname} is in use by another project`);
  });

  it('lets another project add a domain whose unverified claim has lapsed', async () => {
    const first = await setup();
    const added = await as(first.owner).post<DomainBody>(first.base, { hostname: first.hostname });
    const other = await setup();
    const eightDaysAgo = new Date(Date.now() - 8 * 86_400_000);
    // Within the claim, even at its end, it stays the first project's.
    await db
      .update(domains)
      .set({ createdAt: new Date(Date.now() - 6 * 86_400_000) })
      .where(eq(domains.id, added.body.id));
    expect((await as(other.owner).post(other.base, { hostname: first.hostname })).status).toBe(409);
    await db.update(domains).set({ createdAt: eightDaysAgo }).where(eq(domains.id, added.body.id));
    // The first project re-adding its own lapsed claim keeps it (and its token) as it is.
    expect((await as(first.owner).post(first.base, { hostname: first.hostname })).status).toBe(409);
    const taken = await as(other.owner).post<DomainBody>(other.base, {
      hostname: first.hostname,
    });
    expect(taken.status, taken.text).toBe(201);
    expect(taken.body.verification.value).not.toBe(added.body.verification.value);
    expect((await as(first.owner).get<{ domains: DomainBody[] }>(first.base)).body.domains).toEqual(
      [],
    );
    const [audit] = await db
      .select({ metadata: auditLogs.metadata })
      .from(auditLogs)
      .where(and(eq(auditLogs.action, 'domain.added'), eq(auditLogs.targetId, taken.body.id)));
    expect(audit!.metadata).toEqual({ hostname: first.hostname, lapsed_claim: true });
  });

  it('answers 502 when the resolver fails, and leaves the domain pending', async () => {
    const { owner, base, hostname } = await setup();
    const added = await as(owner).post<DomainBody>(base, { hostname });
    const doh = dohDouble();
    routeDns(doh);
    doh.setDown(true);
    const response = await as(owner, withDoh).post<{ error: { code: string; message: string } }>(
      `${base}/${added.body.id}/verify`,
    );
    expect(response.status).toBe(502);
    expect(response.body.error.message).toMatch(/DNS lookup failed: the resolver answered 503/);
    const [row] = await db.select().from(domains).where(eq(domains.id, added.body.id));
    expect(row!.verifiedAt).toBeNull();
  });

  it('lets viewers and developers read but not change domains; others get 404', async () => {
    const { owner, viewer, developer, base, hostname } = await setup();
    const added = await as(owner).post<DomainBody>(base, { hostname });
    for (const member of [viewer, developer]) {
      expect((await as(member).get(base)).status).toBe(200);
      expect((await as(member).post(base, { hostname: `x.${hostname}` })).status).toBe(403);
      expect((await as(member).post(`${base}/${added.body.id}/verify`)).status).toBe(403);
      expect((await as(member).delete(`${base}/${added.body.id}`)).status).toBe(403);
    }
    const stranger = await newUser('stranger');
    expect((await as(stranger).get(base)).status).toBe(404);
    expect((await as(stranger).delete(`${base}/${added.body.id}`)).status).toBe(404);
    expect((await as().get(base)).status).toBe(401);
    // A domain of another project is not found under this one.
    const other = await setup();
    expect((await as(other.owner).delete(`${other.base}/${added.body.id}`)).status).toBe(404);
  });

  it('serves production on the domain only once it is verified', async () => {
    const { owner, base, hostname, project } = await setup();
    const environments = await as(owner).get<{
      environments: { id: string; kind: 'production' | 'preview' }[];
    }>(`/api/projects/${project.id}/environments`);
    const production = environments.body.environments.find((e) => e.kind === 'production')!;
    await siteDeployer(db, project.id, 'd'.repeat(40))('on the custom domain', production);
    await drain(production.id);
    const added = await as(owner).post<DomainBody>(base, { hostname });
    const visit = async () => {
      const ctx = createExecutionContext();
      const response = await worker.fetch(new Request(`http://${hostname}/`), env, ctx);
      await waitOnExecutionContext(ctx);
      return response.text();
    };
    expect(await visit()).not.toBe('on the custom domain');
    const doh = dohDouble();
    routeDns(doh);
    doh.txt.set(added.body.verification.name, [added.body.verification.value]);
    const verified = await as(owner, withDoh).post(`${base}/${added.body.id}/verify`);
    expect(verified.status).toBe(200);
    expect(await visit()).toBe('on the custom domain');
    // Removed: it stops serving at once.
    expect((await as(owner).delete(`${base}/${added.body.id}`)).status).toBe(200);
    expect(await visit()).not.toBe('on the custom domain');
  });
});
