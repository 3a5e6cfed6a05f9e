/**
 * Sticky canary assignment: a visitor id hashes to a bucket 0–9999 that never changes, and the
 * canary serves buckets below `percent * 100`. Raising the share keeps everyone already on the
 * canary there.
 */
export async function canaryBucket(visitorId: string, deploymentId: string): Promise<number> {
  // Salted by deployment so each rollout samples a different set of visitors.
  const digest = await crypto.subtle.digest(
    'SHA-256',
    new TextEncoder().encode(`${deploymentId}:${visitorId}`),
  );
  return new DataView(digest).getUint32(0) % 10_000;
}

export async function servesCanary(visitorId: string, deploymentId: string, percent: number) {
  if (percent <= 0) return false;
  if (percent >= 100) return true;
  return (await canaryBucket(visitorId, deploymentId)) < Math.round(percent * 100);
}

/** The shares a canary steps through, e.g. 5 → 20 → 50 → 100, checked and sorted. */
export function canarySteps(steps: readonly number[]): number[] {
  const valid = [...new Set(steps)].filter((step) => step > 0 && step <= 100).sort((a, b) => a - b);
  if (valid.at(-1) !== 100) valid.push(100);
  return valid;
}
