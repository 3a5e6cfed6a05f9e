import { migrateDatabase } from '../db/migrate';
import { postgresTarget, startNeonProxy } from './neon-proxy';

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error(
    'DATABASE_URL is not set: export the Postgres URL to migrate, e.g.\n' +
      '  DATABASE_URL=postgres://postgres@127.0.0.1:5432/sparki npm run db:migrate',
  );
  process.exit(1);
}

// Neon accepts WebSockets itself; any other Postgres is reached through a local proxy.
const isNeon = /\.neon\.tech$/.test(new URL(databaseUrl).hostname);
const proxy = isNeon
  ? undefined
  : await startNeonProxy({ allowedTargets: [postgresTarget(databaseUrl)] });
try {
  await migrateDatabase(databaseUrl, { wsProxy: proxy?.wsProxy });
  console.log('Migrations applied.');
} catch (err) {
  console.error(`Migration failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await proxy?.close();
}
