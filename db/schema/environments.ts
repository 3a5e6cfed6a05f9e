import {
  type AnyPgColumn,
  boolean,
  integer,
  jsonb,
  pgTable,
  text,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { id, timestamps } from './columns';
import { deployments } from './deployments';
import { deploymentStrategy, environmentKind } from './enums';
import { projects } from './projects';

export interface EnvVarValue {
  encrypted: string;
  secret: boolean;
  /** ISO time of the last write; the only thing besides the name the API shows of a secret. */
  updatedAt?: string;
}

export const environments = pgTable(
  'environments',
  {
    ...id,
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    kind: environmentKind('kind').notNull(),
    deployTarget: text('deploy_target').notNull().default('edge'),
    // Name to AES-GCM ciphertext; plaintext values never reach the database. Secret values are
    // also write-only in the API and masked in build logs.
    envVars: jsonb('env_vars').$type<Record<string, EnvVarValue>>().notNull().default({}),
    // What the hosts of this environment serve: switching it is promote and rollback.
    liveDeploymentId: uuid('live_deployment_id').references((): AnyPgColumn => deployments.id, {
      onDelete: 'set null',
    }),
    // A canary in progress: this deployment serves `canary_percent` % of visitors.
    canaryDeploymentId: uuid('canary_deployment_id').references((): AnyPgColumn => deployments.id, {
      onDelete: 'set null',
    }),
    canaryPercent: integer('canary_percent').notNull().default(0),
    autoDeploy: boolean('auto_deploy').notNull().default(true),
    strategy: deploymentStrategy('strategy').notNull().default('all_at_once'),
    // Deploy settings (health check, canary steps, adapter config) validated by core schemas.
    deployConfig: jsonb('deploy_config').$type<Record<string, unknown>>().notNull().default({}),
    // The external platform's credentials, AES-GCM encrypted as one JSON document.
    credentialsEncrypted: text('credentials_encrypted'),
    ...timestamps,
  },
  (t) => [unique('environments_project_id_name_key').on(t.projectId, t.name)],
);

export type Environment = typeof environments.$inferSelect;
export type NewEnvironment = typeof environments.$inferInsert;
