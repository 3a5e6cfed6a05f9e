import { z } from 'zod';
import { ApiError } from '../../platform/errors';
import type { GitHubReader } from '../projects/detect-preview';

/** What GitHub answers the manifest conversion with (the only time it shows the secrets). */
const ConversionSchema = z.object({
  id: z.number().int(),
  slug: z.string().min(1),
  html_url: z.string(),
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
  webhook_secret: z.string().min(1),
  pem: z.string().min(1),
});
export type GitHubAppConversion = z.infer<typeof ConversionSchema>;

/**
 * `POST /app-manifests/{code}/conversions`: turns the one-hour code GitHub redirected with into
 * the new app's id and credentials. A refused or unknown code is the caller's error (400).
 */
export async function convertManifestCode(
  github: GitHubReader,
  code: string,
): Promise<GitHubAppConversion> {
  const url = `${github.apiBase.replace(/\/$/, '')}/app-manifests/${encodeURIComponent(code)}/conversions`;
  let response: Response;
  try {
    response = await github.fetch(url, {
      method: 'POST',
      headers: {
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
        'user-agent': 'sparki',
      },
    });
  } catch {
    throw new ApiError('bad_gateway', 'GitHub could not be reached to finish creating the app');
  }
  if (response.status === 404 || response.status === 422) {
    throw new ApiError(
      'validation_failed',
      'GitHub refused the code: it is unknown, used or expired',
    );
  }
  if (!response.ok) {
    throw new ApiError(
      'bad_gateway',
      `GitHub answered ${response.status} to the manifest conversion`,
    );
  }
  const parsed = ConversionSchema.safeParse(await response.json().catch(() => null));
  if (!parsed.success) {
    throw new ApiError(
      'bad_gateway',
      'GitHub answered the manifest conversion with an unexpected body',
    );
  }
  return parsed.data;
}
