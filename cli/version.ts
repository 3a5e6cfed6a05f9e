import packageJson from '../package.json' with { type: 'json' };

/** The repository's version: what `sparki --version` prints and the packed CLI is named after. */
export const VERSION = packageJson.version;
