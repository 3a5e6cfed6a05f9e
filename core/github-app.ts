import { decryptSecret, encryptSecret } from './secret-box';

/** What a workspace's GitHub App may do and hear (docs/github-app.md). */
export const GITHUB_APP_PERMISSIONS = {
  contents: 'read',
  metadata: 'read',
  statuses: 'write',
  pull_requests: 'write',
} as const;
export const GITHUB_APP_EVENTS = ['push', 'pull_request'] as const;

/** How long the admin has, on GitHub's page, between asking for the manifest and coming back. */
export const GITHUB_APP_STATE_TTL_MS = 60 * 60 * 1000;

export interface GitHubAppManifest {
  name: string;
  url: string;
  hook_attributes: { url: string; active: boolean };
  redirect_url: string;
  callback_urls: string[];
  setup_url: string;
  public: boolean;
  default_permissions: Record<string, string>;
  default_events: string[];
}

/**
 * The manifest GitHub creates the app from (GitHub's "Registering a GitHub App from a
 * manifest"): webhooks to the platform, the redirect with the conversion code to the public
 * callback, private to the account that creates it.
 */
export function githubAppManifest(publicUrl: string, workspaceName: string): GitHubAppManifest {
  const base = publicUrl.replace(/\/$/, '');
  // GitHub App names are unique on GitHub and at most 34 characters.
  const name = `Sparki ${workspaceName}`.slice(0, 34).trim();
  return {
    name,
    url: base,
    hook_attributes: { url: `${base}/webhooks/github-app`, active: true },
    redirect_url: `${base}/api/github-app/callback`,
    callback_urls: [`${base}/api/github-app/callback`],
    setup_url: `${base}/projects/new`,
    public: false,
    default_permissions: { ...GITHUB_APP_PERMISSIONS },
    default_events: [...GITHUB_APP_EVENTS],
  };
}

export interface GitHubAppState {
  workspaceId: string;
  userId: string;
  expiresAt: number;
}

/** The `state` GitHub hands back: sealed (AES-GCM), so it can be neither read nor forged. */
export function sealGitHubAppState(key: string, state: GitHubAppState): Promise<string> {
  return encryptSecret(
    key,
    JSON.stringify({ w: state.workspaceId, u: state.userId, e: state.expiresAt }),
  );
}

/** The state's contents, or null when it was tampered with, is not ours, or has expired. */
export async function openGitHubAppState(
  key: string,
  sealed: string,
  now = Date.now(),
): Promise<GitHubAppState | null> {
  try {
    const raw = JSON.parse(await decryptSecret(key, sealed)) as {
      w?: unknown;
      u?: unknown;
      e?: unknown;
    };
    if (typeof raw.w !== 'string' || typeof raw.u !== 'string' || typeof raw.e !== 'number') {
      return null;
    }
    if (raw.e <= now) return null;
    return { workspaceId: raw.w, userId: raw.u, expiresAt: raw.e };
  } catch {
    return null;
  }
}
