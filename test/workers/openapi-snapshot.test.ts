import { expect, it } from 'vitest';
import { fetchWorker } from './harness';

// The dashboard's typed client is generated from this file (`npm run web:api`, which runs this
// test with -u and then openapi-typescript). A route change without regenerating fails here, so
// the dashboard cannot drift from the API it calls.
it('the dashboard is built against the current API description', async () => {
  const doc = await (await fetchWorker('/api/openapi.json')).json<{ servers?: unknown }>();
  // The only part that depends on where the platform is reached.
  delete doc.servers;
  await expect(`${JSON.stringify(doc, null, 2)}\n`).toMatchFileSnapshot(
    '../../web/src/api/openapi.json',
  );
});
