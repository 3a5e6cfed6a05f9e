import type { FrameworkId } from '../types';
import type { Framework } from './framework';
import { goFrameworks } from './go';
import { javascriptFrameworks } from './javascript';
import { otherFrameworks } from './others';
import { pythonFrameworks } from './python';
import { rubyFrameworks } from './ruby';

export type { Framework, Plan } from './framework';

/** Every framework Sparki knows, by id; `FRAMEWORK_IDS` gives the order they are tried in. */
export const FRAMEWORKS: Record<FrameworkId, Framework> = {
  ...javascriptFrameworks,
  ...pythonFrameworks,
  ...goFrameworks,
  ...rubyFrameworks,
  ...otherFrameworks,
};
