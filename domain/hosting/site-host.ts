import { and, eq, isNotNull } from 'drizzle-orm';
import { parse, serialize } from 'hono/utils/cookie';
import { servesCanary } from '../../core/hosting/canary';
import { type HostTarget, routeHost } from '../../core/hosting/host-routing';
import { type Manifest, ManifestSchema } from '../../core/hosting/manifest';
import type { Database } from '../../db/client';
import { deployments, domains, environments, projects } from '../../db/schema';
import { createServices } from '../../platform/services';
import { openBlob } from './blob-store';
import { type BlobReader, loadSite, type Site, serveSite } from './serve';

const VISITOR_COOKIE = 'sparki_visitor';
const VISITOR_MAX_AGE_SECONDS = 60 * 60 * 24 * 365;

interface Served {
  deploymentId: string;
  manifestKey: string;
}

// Deployments never change once made, so their parsed sites can live as long as the isolate.
const sites = new Map<string, Promise<Site>>();
const SITE_CACHE_LIMIT = 200;

/** Reads the manifest's files from SITES, its own objects or ranges of its packs. */
const blobReader =
  (bucket: R2Bucket, manifest: Manifest): BlobReader =>
  (file) =>
    openBlob(bucket, manifest, file);

function siteFor(bucket: R2Bucket, served: Served): Promise<Site> {
  let site = sites.get(served.deploymentId);
  if (!site) {
    site = (async () => {
      const object = await bucket.get(served.manifestKey);
      if (!object) throw new Error(`manifest ${served.manifestKey} is missing`);
      const manifest = ManifestSchema.parse(await object.json());
      return loadSite(manifest, blobReader(bucket, manifest));
    })();
    site.catch(() => sites.delete(served.deploymentId));
    if (sites.size >= SITE_CACHE_LIMIT) sites.delete(sites.keys().next().value as string);
    sites.set(served.deploymentId, site);
  }
  return site;
}

async function productionOf(db: Database, projectId: string) {
  const [env] = await db
    .select({
      live: environments.liveDeploymentId,
      canary: environments.canaryDeploymentId,
      percent: environments.canaryPercent,
    })
    .from(environments)
    .where(and(eq(environments.projectId, projectId), eq(environments.kind, 'production')));
  return env;
}

async function deploymentServed(db: Database, id: string): Promise<Served | null> {
  const [row] = await db
    .select({ manifestKey: deployments.manifestKey })
    .from(deployments)
    .where(eq(deployments.id, id));
  return row?.manifestKey ? { deploymentId: id, manifestKey: row.manifestKey } : null;
}

/**
 * Which deployment a host serves, with the visitor's sticky canary share applied; null when
 * nothing is live there, `retired` for a retired preview's own host, undefined when the host is
 * not a site at all.
 */
async function resolveTarget(
  db: Database,
  target: HostTarget,
  visitor: string,
): Promise<Served | 'retired' | null | undefined> {
  if (target.kind === 'deployment') {
    const [row] = await db
      .select({
        id: deployments.id,
        manifestKey: deployments.manifestKey,
        status: deployments.status,
      })
      .from(deployments)
      .innerJoin(projects, eq(projects.id, deployments.projectId))
      .where(and(eq(deployments.label, target.deployment), eq(projects.hostLabel, target.project)));
    if (row?.status === 'retired') {
      sites.delete(row.id);
      return 'retired';
    }
    return row?.manifestKey ? { deploymentId: row.id, manifestKey: row.manifestKey } : null;
  }
  const [project] =
    target.kind === 'production'
      ? await db
          .select({ id: projects.id })
          .from(projects)
          .where(eq(projects.hostLabel, target.project))
      : await db
          .select({ id: domains.projectId })
          .from(domains)
          // An unverified domain may be claimed by anyone, so it is no site until proven.
          .where(and(eq(domains.hostname, target.hostname), isNotNull(domains.verifiedAt)));
  if (!project) return target.kind === 'custom' ? undefined : null;
  const production = await productionOf(db, project.id);
  if (!production?.live) return null;
  if (production.canary && (await servesCanary(visitor, production.canary, production.percent))) {
    return deploymentServed(db, production.canary);
  }
  return deploymentServed(db, production.live);
}

function notFound(message: string) {
  return new Response(message, {
    status: 404,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  });
}

const RETIRED_PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Preview retired</title>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem">
<h1>This preview has been retired</h1>
<p>Its branch was deleted or its pull request was closed, so this deployment is no longer served.
The project's production site and newer previews are not affected.</p>
</body>
</html>
`;

/** 410: the preview existed and is gone on purpose, so caches and crawlers may forget it. */
function retired() {
  return new Response(RETIRED_PAGE, {
    status: 410,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-robots-tag': 'noindex',
    },
  });
}

/**
 * The built-in edge host: a request for `<deployment>--<project>.<hosting domain>`,
 * `<project>.<hosting domain>` or a verified custom domain is answered from the deployment's
 * files. Null for every other host (the platform's own), which the caller then serves. The HTTP
 * entry and the deploy engine's health checks both reach sites through here.
 */
export async function answerSiteRequest(
  request: Request,
  env: Env,
  waitUntil: (promise: Promise<unknown>) => void,
): Promise<Response | null> {
  const url = new URL(request.url);
  const host = request.headers.get('host') ?? url.host;
  const target = host === new URL(env.PUBLIC_URL).host ? null : routeHost(host, env.HOSTING_DOMAIN);
  if (!target) return null;

  let scoped: ReturnType<typeof createServices>;
  try {
    scoped = createServices(env);
  } catch (error) {
    // A misconfigured platform still answers /healthz on its own (non-site) host names.
    if (target.kind === 'custom') return null;
    throw error;
  }
  try {
    const known = parse(request.headers.get('cookie') ?? '', VISITOR_COOKIE)[VISITOR_COOKIE];
    const visitor = known ?? crypto.randomUUID();
    const served = await resolveTarget(scoped.services.db(), target, visitor);
    // Any other host name (an IP, the workers.dev name) is the platform itself.
    if (served === undefined) return null;
    if (served === 'retired') return retired();
    if (!served) return notFound('No deployment is live here');
    const site = await siteFor(env.SITES, served);
    const response = await serveSite(request, site, blobReader(env.SITES, site.manifest));
    if (known) return response;
    // Sticky canary assignment needs a stable visitor id; it carries nothing else.
    const withCookie = new Response(response.body, response);
    withCookie.headers.append(
      'set-cookie',
      serialize(VISITOR_COOKIE, visitor, {
        path: '/',
        httpOnly: true,
        secure: url.protocol === 'https:',
        sameSite: 'Lax',
        maxAge: VISITOR_MAX_AGE_SECONDS,
      }),
    );
    return withCookie;
  } finally {
    waitUntil(scoped.close());
  }
}

/**
 * Requests the edge host in-process, as a visitor's request would be answered: how the deploy
 * engine health-checks what it put on a site host.
 */
export function siteFetch(env: Env) {
  return async (request: Request) => {
    const pending: Promise<unknown>[] = [];
    const response =
      (await answerSiteRequest(request, env, (promise) => pending.push(promise))) ??
      new Response('Not a site host', { status: 404 });
    const body = await response.arrayBuffer();
    await Promise.allSettled(pending);
    return new Response(body, response);
  };
}
