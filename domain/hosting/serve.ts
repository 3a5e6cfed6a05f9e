import mime from 'mime/lite';
import { applyHeaders, type HeaderRule, parseHeaders } from '../../core/hosting/headers';
import {
  cacheControl,
  etag,
  type Manifest,
  type ManifestFile,
  notModified,
  type Resolved,
  resolvePath,
} from '../../core/hosting/manifest';
import { matchRedirect, parseRedirects, type RedirectRule } from '../../core/hosting/redirects';

/** What one deployment serves: its manifest and the site's own rules, parsed once. */
export interface Site {
  manifest: Manifest;
  redirects: readonly RedirectRule[];
  headers: readonly HeaderRule[];
}

/** A manifest file's bytes (R2 in the Worker, memory in tests). */
export type BlobReader = (file: ManifestFile) => Promise<ReadableStream | ArrayBuffer | null>;

// Configuration, not content: read when the site loads, never served.
const RULE_FILES = ['/_redirects', '/_headers'] as const;

/** Reads the site's `_redirects` and `_headers` and takes them out of what is served. */
export async function loadSite(manifest: Manifest, readBlob: BlobReader): Promise<Site> {
  const read = async (path: string) => {
    const file = manifest.files[path];
    const body = file ? await readBlob(file) : null;
    return body ? new Response(body).text() : '';
  };
  const [redirects, headers] = await Promise.all(RULE_FILES.map(read));
  const files = Object.fromEntries(
    Object.entries(manifest.files).filter(
      ([path]) => !(RULE_FILES as readonly string[]).includes(path),
    ),
  );
  return {
    manifest: { ...manifest, files },
    redirects: parseRedirects(redirects ?? '').rules,
    headers: parseHeaders(headers ?? '').rules,
  };
}

const TEXT_TYPES =
  /^(?:text\/|application\/(?:javascript|json|xml|manifest\+json)|image\/svg\+xml)/;

function contentType(path: string): string {
  const type = mime.getType(path) ?? 'application/octet-stream';
  return TEXT_TYPES.test(type) ? `${type}; charset=utf-8` : type;
}

async function fileResponse(
  request: Request,
  site: Site,
  resolved: Resolved,
  readBlob: BlobReader,
): Promise<Response> {
  const headers = new Headers({
    'content-type': contentType(resolved.path),
    'cache-control': cacheControl(resolved.path),
    etag: etag(resolved.file),
  });
  applyHeaders(site.headers, new URL(request.url).pathname, headers);
  if (resolved.status === 200 && notModified(request.headers.get('if-none-match'), resolved.file)) {
    return new Response(null, { status: 304, headers });
  }
  headers.set('content-length', String(resolved.file.size));
  if (request.method === 'HEAD') return new Response(null, { status: resolved.status, headers });
  const body = await readBlob(resolved.file);
  if (!body) {
    // The manifest names a blob the store does not have: an upload went wrong, not the visitor.
    return new Response('This deployment is missing a file; redeploy it.', { status: 502 });
  }
  return new Response(body, { status: resolved.status, headers });
}

function notFound(): Response {
  return new Response('Not found', {
    status: 404,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  });
}

/**
 * Answers a visitor's request from a deployment: `_redirects` first (a rule applies when no file
 * matches, or always when forced with `!`), then the file, directory index, pretty URL, SPA shell
 * or the site's 404 page.
 */
export async function serveSite(
  request: Request,
  site: Site,
  readBlob: BlobReader,
): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response('Method not allowed', { status: 405, headers: { allow: 'GET, HEAD' } });
  }
  const url = new URL(request.url);
  const resolved = resolvePath(site.manifest, url.pathname);
  const redirect = matchRedirect(site.redirects, url);
  if (redirect && (redirect.force || !resolved || resolved.fallback)) {
    if (redirect.status === 200 || redirect.status === 404) {
      const target = resolvePath(
        { ...site.manifest, spa: false },
        new URL(redirect.location, url).pathname,
      );
      if (!target || target.fallback) {
        return resolved ? fileResponse(request, site, resolved, readBlob) : notFound();
      }
      return fileResponse(request, site, { ...target, status: redirect.status }, readBlob);
    }
    return new Response(null, {
      status: redirect.status,
      headers: { location: redirect.location },
    });
  }
  return resolved ? fileResponse(request, site, resolved, readBlob) : notFound();
}
