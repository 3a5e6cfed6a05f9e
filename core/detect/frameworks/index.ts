import type { FrameworkId } from '../types';
import type { Framework } from './framework';
import { goFrameworks } from './go';
import { javascriptFrameworks } from './javascript';
import { nodeServerFrameworks } from './node-servers';
import { otherFrameworks } from './others';
import { pythonFrameworks } from './python';
import { rubyFrameworks } from './ruby';
import { staticSiteFrameworks } from './static-sites';

export type { Framework, Plan } from './framework';

/** Every framework Sparki knows, by id; `FRAMEWORK_IDS` gives the order they are tried in. */
export const FRAMEWORKS: Record<FrameworkId, Framework> = {
  ...javascriptFrameworks,
  ...staticSiteFrameworks,
  ...nodeServerFrameworks,
  ...pythonFrameworks,
  ...goFrameworks,
  ...rubyFrameworks,
  ...otherFrameworks,
};
