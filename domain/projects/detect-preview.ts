import { DetectionError, detect, type SourceTree } from '../../core/detect';
import { type DetectionReport, detectionReport } from '../../core/runner-protocol';

/**
 * What the new-project form shows before anything is built. Detection proper runs on a runner,
 * in the checkout of the first build. The platform can read only a public GitHub repository (the
 * contents API, without credentials); for anything else the preview says so and leaves it to
 * the first build, rather than guess.
 */
export type DetectPreview =
  | { status: 'detected'; source: 'github'; detection: DetectionReport }
  | { status: 'failed'; source: 'github'; reason: string }
  | { status: 'deferred'; reason: string };

export interface PreviewInput {
  repoUrl: string;
  branch: string;
  rootDir: string;
}

/** GitHub's REST API (GITHUB_API_BASE_URL) and the fetch to reach it with. */
export interface GitHubReader {
  apiBase: string;
  fetch: typeof fetch;
}

/** At most this many contents requests per preview: detection looks at a handful of files. */
export const PREVIEW_REQUEST_BUDGET = 40;

const FIRST_BUILD = 'Detected on the first build, in the runner’s checkout.';

/** `owner/repo` of a github.com repository URL (https, ssh or scp form), else undefined. */
export function githubRepository(repoUrl: string): { owner: string; repo: string } | undefined {
  const match =
    /^(?:https:\/\/(?:[^@/]+@)?github\.com\/|ssh:\/\/git@github\.com\/|git@github\.com:)([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+?)(?:\.git)?\/?$/.exec(
      repoUrl.trim(),
    );
  if (!match || match[2] === '.' || match[2] === '..') return undefined;
  return { owner: match[1]!, repo: match[2]! };
}

class Unreadable extends Error {}

interface Listing {
  names: Map<string, 'file' | 'dir' | 'other'>;
}

/** A repository at `ref` through GitHub's contents API: listings and files, fetched on demand. */
function githubTree(github: GitHubReader, owner: string, repo: string, ref: string): SourceTree {
  const base = `${github.apiBase.replace(/\/$/, '')}/repos/${owner}/${repo}/contents`;
  let spent = 0;
  const cache = new Map<string, Promise<unknown>>();

  const get = (path: string) => {
    let pending = cache.get(path);
    if (!pending) {
      if (++spent > PREVIEW_REQUEST_BUDGET) {
        throw new Unreadable('The repository needs more looking at than a preview does.');
      }
      const encoded = path.split('/').filter(Boolean).map(encodeURIComponent).join('/');
      const url = `${base}${encoded ? `/${encoded}` : ''}?ref=${encodeURIComponent(ref)}`;
      pending = github
        .fetch(url, {
          headers: {
            accept: 'application/vnd.github+json',
            'user-agent': 'sparki',
            'x-github-api-version': '2022-11-28',
          },
        })
        .then(async (response) => {
          if (response.status === 404) return null;
          if (!response.ok) {
            throw new Unreadable(
              response.status === 403 || response.status === 429
                ? 'GitHub refused to answer now (rate limit).'
                : `GitHub answered ${response.status}.`,
            );
          }
          return response.json();
        });
      cache.set(path, pending);
    }
    return pending;
  };

  const listing = async (dir: string): Promise<Listing | undefined> => {
    const body = await get(dir);
    if (!Array.isArray(body)) return undefined;
    const names = new Map<string, 'file' | 'dir' | 'other'>();
    for (const entry of body as { name?: unknown; type?: unknown }[]) {
      if (typeof entry.name !== 'string') continue;
      names.set(
        entry.name,
        entry.type === 'file' ? 'file' : entry.type === 'dir' ? 'dir' : 'other',
      );
    }
    return { names };
  };
  const split = (path: string) => {
    const slash = path.lastIndexOf('/');
    return slash < 0 ? ['', path] : [path.slice(0, slash), path.slice(slash + 1)];
  };
  const kind = async (path: string) => {
    if (path === '') return 'dir';
    const [dir, name] = split(path) as [string, string];
    return (await listing(dir))?.names.get(name);
  };

  return {
    exists: async (path) => (await kind(path)) !== undefined,
    list: async (dir) => {
      if ((await kind(dir)) !== 'dir') return [];
      return [...((await listing(dir))?.names.keys() ?? [])].sort();
    },
    read: async (path) => {
      if ((await kind(path)) !== 'file') return undefined;
      const body = (await get(path)) as { encoding?: unknown; content?: unknown } | null;
      if (body?.encoding !== 'base64' || typeof body.content !== 'string') return undefined;
      const bytes = Uint8Array.from(atob(body.content.replace(/\s/g, '')), (c) => c.charCodeAt(0));
      return new TextDecoder().decode(bytes);
    },
  };
}

/** Detects what it can read now; everything else waits for the first build. */
export async function previewDetection(
  input: PreviewInput,
  github: GitHubReader,
): Promise<DetectPreview> {
  const repository = githubRepository(input.repoUrl);
  if (!repository) {
    return {
      status: 'deferred',
      reason: `Only a runner can read this repository. ${FIRST_BUILD}`,
    };
  }
  const tree = githubTree(github, repository.owner, repository.repo, input.branch);
  try {
    if ((await tree.list('')).length === 0) {
      return {
        status: 'deferred',
        reason: `GitHub does not show this repository or branch without credentials (private, missing or empty). ${FIRST_BUILD}`,
      };
    }
    const detection = await detect(tree, { rootDir: input.rootDir });
    return { status: 'detected', source: 'github', detection: detectionReport(detection) };
  } catch (error) {
    if (error instanceof DetectionError) {
      return { status: 'failed', source: 'github', reason: error.message };
    }
    const reason = error instanceof Unreadable ? error.message : 'GitHub could not be reached.';
    return { status: 'deferred', reason: `${reason} ${FIRST_BUILD}` };
  }
}
