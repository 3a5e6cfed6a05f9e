import { and, asc, eq } from 'drizzle-orm';
import { decryptSecret } from '../../core/secret-box';
import { createMasker } from '../../core/secret-masker';
import type { Database } from '../../db/client';
import { environments } from '../../db/schema';

export interface JobEnvironment {
  env: Record<string, string>;
  secretNames: string[];
  /** The values of `secretNames`, for masking. */
  secrets: string[];
  /** `deploy_config.image` of the environment, when it deploys an image. */
  imageTemplate: string | null;
}

/** The variables of the environment a build targets (production or preview), decrypted. */
export async function loadJobEnvironment(
  db: Database,
  encryptionKey: string,
  projectId: string,
  target: 'production' | 'preview',
): Promise<JobEnvironment> {
  const [environment] = await db
    .select({ envVars: environments.envVars, deployConfig: environments.deployConfig })
    .from(environments)
    .where(and(eq(environments.projectId, projectId), eq(environments.kind, target)))
    .orderBy(asc(environments.createdAt))
    .limit(1);
  const image = environment?.deployConfig.image;
  const result: JobEnvironment = {
    env: {},
    secretNames: [],
    secrets: [],
    imageTemplate: typeof image === 'string' ? image : null,
  };
  for (const [name, value] of Object.entries(environment?.envVars ?? {})) {
    const plain = await decryptSecret(encryptionKey, value.encrypted);
    result.env[name] = plain;
    if (value.secret) {
      result.secretNames.push(name);
      result.secrets.push(plain);
    }
  }
  return result;
}

/** Masks the secret values of the environment a build targets, in what a runner reports. */
export async function jobSecretMasker(
  db: Database,
  encryptionKey: string,
  projectId: string,
  target: 'production' | 'preview',
): Promise<(text: string) => string> {
  const { secrets } = await loadJobEnvironment(db, encryptionKey, projectId, target);
  return createMasker(secrets);
}
