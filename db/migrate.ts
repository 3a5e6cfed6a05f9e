import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/neon-serverless/migrator';
import { createDb, type DbOptions } from './client';

export const MIGRATIONS_FOLDER = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Applies the drizzle-kit migrations through the same driver the Worker uses. */
export async function migrateDatabase(databaseUrl: string, options: DbOptions = {}): Promise<void> {
  const { db, pool } = createDb(databaseUrl, options);
  try {
    await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await pool.end();
  }
}
