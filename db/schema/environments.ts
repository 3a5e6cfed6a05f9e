import { relations } from 'drizzle-orm';
import { jsonb, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core';
import { id, timestamps } from './columns';
import { deployments } from './deployments';
import { environmentKind } from './enums';
import { projects } from './projects';

export interface EnvVarValue {
  encrypted: string;
  secret: boolean;
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
    ...timestamps,
  },
  (t) => [unique('environments_project_id_name_key').on(t.projectId, t.name)],
);

export const environmentsRelations = relations(environments, ({ one, many }) => ({
  project: one(projects, { fields: [environments.projectId], references: [projects.id] }),
  deployments: many(deployments),
}));

export type Environment = typeof environments.$inferSelect;
export type NewEnvironment = typeof environments.$inferInsert;
