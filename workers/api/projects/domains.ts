import { createRoute, z } from '@hono/zod-openapi';
import { checkHostname } from '../../../core/domains';
import type { Domain } from '../../../db/schema';
import { DEFAULT_DOH_URL, DnsLookupError, dohTxtResolver } from '../../../domain/domains/dns';
import {
  addDomain,
  domainsOf,
  findDomain,
  removeDomain,
  UNVERIFIED_CLAIM_DAYS,
  verificationRecord,
  verifyDomain,
} from '../../../domain/domains/domains';
import { ApiError } from '../../../platform/errors';
import { auditFor } from '../../audit';
import { authorizeProject } from '../../auth/authorize';
import { errorResponse, openApiErrorResponses } from '../../errors';
import { iso, json, jsonBody } from '../../openapi';
import { newRouter } from '../../router';
import { ProjectParams } from './schemas';

const DomainSchema = z
  .object({
    id: z.uuid(),
    project_id: z.uuid(),
    hostname: z.string().openapi({ example: 'www.example.com' }),
    status: z.enum(['pending', 'verified']),
    verified_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
    verification: z
      .object({
        type: z.literal('TXT'),
        name: z.string().openapi({ example: '_sparki-challenge.www.example.com' }),
        value: z.string().openapi({ example: 'sparki-verify=3f2a…' }),
      })
      .openapi({
        description:
          'The DNS record that proves control of the domain: add it, then verify. Once verified, ' +
          'point the domain (CNAME or A/AAAA) at the platform to serve production there.',
      }),
  })
  .openapi('Domain');

const VerificationSchema = z
  .object({
    domain: DomainSchema,
    verified: z.boolean().openapi({ description: 'Whether this check found the record' }),
    found: z.array(z.string()).openapi({
      description: 'The TXT values found at the record name (what to fix when it failed)',
    }),
  })
  .openapi('DomainVerification');

const AddDomainSchema = z
  .strictObject({ hostname: z.string().min(1).max(253).openapi({ example: 'www.example.com' }) })
  .openapi('AddDomain');

const DomainParams = ProjectParams.extend({ domain_id: z.uuid() });

async function toDomain(secret: string, row: Domain) {
  return {
    id: row.id,
    project_id: row.projectId,
    hostname: row.hostname,
    status: row.verifiedAt ? ('verified' as const) : ('pending' as const),
    verified_at: iso(row.verifiedAt),
    created_at: row.createdAt.toISOString(),
    verification: await verificationRecord(secret, row),
  };
}

/** `/api/projects/{id}/domains`: custom domains serving a project's production. */
export const projectDomainRoutes = newRouter();

projectDomainRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/domains',
    tags: ['domains'],
    summary: 'Custom domains of a project, with their verification records',
    request: { params: ProjectParams },
    responses: {
      200: { description: 'Domains', ...json(z.object({ domains: z.array(DomainSchema) })) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await authorizeProject(c, id, 'viewer');
    const { db, config } = c.get('services');
    const rows = await domainsOf(db(), id);
    const list = await Promise.all(rows.map((row) => toDomain(config.ENCRYPTION_KEY, row)));
    return c.json({ domains: list }, 200);
  },
);

projectDomainRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/domains',
    tags: ['domains'],
    summary: 'Add a custom domain, pending verification (admin)',
    description:
      'The domain serves nothing until verified: add the returned TXT record at your DNS ' +
      'provider, then `POST …/verify`. Hosts under the platform’s own hosting domain and IP ' +
      'addresses are refused.',
    request: { params: ProjectParams, ...jsonBody(AddDomainSchema) },
    responses: {
      201: { description: 'Added', ...json(DomainSchema) },
      409: errorResponse(
        'This or another project has that domain (another project’s unverified one lapses ' +
          'after 7 days)',
      ),
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const access = await authorizeProject(c, id, 'admin');
    const { db, config } = c.get('services');
    const checked = checkHostname(input.hostname, config.HOSTING_DOMAIN);
    if (!checked.ok) {
      throw new ApiError('validation_failed', 'The domain is not valid', {
        fields: [{ path: 'hostname', message: checked.message, code: 'custom' }],
      });
    }
    const { hostname } = checked;
    const added = await addDomain(db(), id, hostname, auditFor(c, access));
    if (added === 'exists') {
      throw new ApiError('conflict', `${hostname} is already a domain of this project`);
    }
    if (added === 'taken') {
      throw new ApiError('conflict', `${hostname} is in use by another project`);
    }
    if (added === 'claimed') {
      throw new ApiError(
        'conflict',
        `${hostname} was added to another project, which has not verified it; an unverified ` +
          `domain can be added elsewhere ${UNVERIFIED_CLAIM_DAYS} days after it was added`,
      );
    }
    return c.json(await toDomain(config.ENCRYPTION_KEY, added), 201);
  },
);

projectDomainRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/domains/{domain_id}/verify',
    tags: ['domains'],
    summary: 'Check the domain’s TXT record now (admin)',
    description:
      'Looks the record up over DNS-over-HTTPS. `verified: false` with the values `found` when ' +
      'the record is not there (yet): DNS changes can take a while to be seen. A 502 when the ' +
      'resolver could not answer.',
    request: { params: DomainParams },
    responses: {
      200: { description: 'Checked', ...json(VerificationSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id, domain_id } = c.req.valid('param');
    const access = await authorizeProject(c, id, 'admin');
    const { db, config } = c.get('services');
    const domain = await findDomain(db(), id, domain_id);
    if (!domain) throw new ApiError('not_found', 'Domain not found');
    const resolve = dohTxtResolver(config.DNS_OVER_HTTPS_URL ?? DEFAULT_DOH_URL);
    let outcome: Awaited<ReturnType<typeof verifyDomain>>;
    try {
      outcome = await verifyDomain(
        db(),
        domain,
        config.ENCRYPTION_KEY,
        resolve,
        auditFor(c, access),
      );
    } catch (err) {
      if (err instanceof DnsLookupError) {
        throw new ApiError('bad_gateway', `DNS lookup failed: ${err.message}`);
      }
      throw err;
    }
    return c.json(
      {
        domain: await toDomain(config.ENCRYPTION_KEY, outcome.domain),
        verified: outcome.verified,
        found: outcome.verified ? [] : outcome.found,
      },
      200,
    );
  },
);

projectDomainRoutes.openapi(
  createRoute({
    method: 'delete',
    path: '/{id}/domains/{domain_id}',
    tags: ['domains'],
    summary: 'Remove a custom domain: it stops serving at once (admin)',
    request: { params: DomainParams },
    responses: {
      200: { description: 'Removed', ...json(z.object({ status: z.literal('deleted') })) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id, domain_id } = c.req.valid('param');
    const access = await authorizeProject(c, id, 'admin');
    const db = c.get('services').db();
    const domain = await findDomain(db, id, domain_id);
    if (!domain || !(await removeDomain(db, domain, auditFor(c, access)))) {
      throw new ApiError('not_found', 'Domain not found');
    }
    return c.json({ status: 'deleted' as const }, 200);
  },
);
