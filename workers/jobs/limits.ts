/** Time past the build timeout for the runner to upload the output and report the result. */
export const COMPLETION_MARGIN_MS = 5 * 60_000;

export const ARTIFACT_MAX_BYTES = 512 * 1024 * 1024;

export function artifactKey(buildId: string): string {
  return `builds/${buildId}/output.tar.gz`;
}
