/** What a request's Host asks the edge host for. */
export type HostTarget =
  | { kind: 'deployment'; deployment: string; project: string }
  | { kind: 'production'; project: string }
  | { kind: 'custom'; hostname: string };

const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
// Addresses are never sites (the platform is often reached at 127.0.0.1 locally).
const IP_LITERAL = /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]+\])$/;
// The separator between deployment and project. Deployment labels never contain it, so the
// first occurrence splits; a project's host label must not contain it either.
const SEPARATOR = '--';

/**
 * `<deployment>--<project>.<hosting domain>` is one deployment, `<project>.<hosting domain>`
 * the project's production; any other host may be a custom domain. Ports are ignored, so
 * `app.localhost:8787` works locally.
 */
export function routeHost(host: string, hostingDomain: string): HostTarget | null {
  const hostname = host.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  const domain = hostingDomain.toLowerCase().replace(/^\./, '');
  if (!hostname || hostname === domain || IP_LITERAL.test(hostname)) return null;
  if (!hostname.endsWith(`.${domain}`)) return { kind: 'custom', hostname };
  const label = hostname.slice(0, -(domain.length + 1));
  if (label.includes('.') || !LABEL.test(label)) return null;
  const at = label.indexOf(SEPARATOR);
  if (at === -1) return { kind: 'production', project: label };
  const deployment = label.slice(0, at);
  const project = label.slice(at + SEPARATOR.length);
  if (!LABEL.test(deployment) || !LABEL.test(project)) return null;
  return { kind: 'deployment', deployment, project };
}

/** A host label for a project: its slug with runs of hyphens folded, so it never holds `--`. */
export function hostLabel(slug: string): string {
  return slug.replace(/-{2,}/g, '-');
}

export function deploymentHost(deployment: string, project: string, hostingDomain: string) {
  return `${deployment}${SEPARATOR}${project}.${hostingDomain}`;
}

/**
 * A site host's address in the platform's own scheme and port: the Worker that answers
 * `PUBLIC_URL` answers the site hosts on the same listener (`http://app.localhost:8787` locally,
 * `https://app.example.com` behind Cloudflare, where the port is the scheme's own).
 */
export function siteUrl(publicUrl: string, host: string): string {
  const { protocol, port } = new URL(publicUrl);
  return `${protocol}//${host}${port ? `:${port}` : ''}`;
}
