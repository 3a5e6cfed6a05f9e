/**
 * Names of the objects Sparki keeps in R2, in one place. SITES holds content-addressed blobs and
 * packs of them (shared between tenants), build output lists and deployment manifests; ARTIFACTS
 * holds uploaded output archives. (Build logs are named by `buildLogKey` in core/log-stream.ts,
 * which the runner protocol shares.)
 */

export const blobKey = (hash: string) => `blobs/${hash}`;

/** Small blobs uploaded together, back to back, named by the SHA-256 of the whole. */
export const packKey = (hash: string) => `packs/${hash}`;

/** The file list a runner committed for a build's output. */
export const outputManifestKey = (buildId: string) => `outputs/${buildId}.json`;

/** What a deployment serves: path → blob. */
export const deploymentManifestKey = (deploymentId: string) => `manifests/${deploymentId}.json`;

/** A build output uploaded as one archive. */
export const artifactKey = (buildId: string) => `builds/${buildId}/output.tar.gz`;
