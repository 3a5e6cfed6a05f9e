// A named import: the bundle (cli/pack.ts) then carries this one field, not the whole manifest.
import { version } from '../package.json';

/** The repository's version: what `sparki --version` prints and the packed CLI is named after. */
export const VERSION = version;
