import { generatePlatformKeys } from './keys';

// Prints fresh secrets for `wrangler secret put`; nothing is written to disk.
const keys = await generatePlatformKeys();
for (const [name, value] of Object.entries(keys)) console.log(`${name}=${value}`);
