import type { FrameworkId } from '../types';
import { denoFrameworks } from './deno';
import { dotnetFrameworks } from './dotnet';
import { elixirFrameworks } from './elixir';
import type { Framework } from './framework';
import { goFrameworks } from './go';
import { javascriptFrameworks } from './javascript';
import { jvmFrameworks } from './jvm';
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
  ...denoFrameworks,
  ...jvmFrameworks,
  ...dotnetFrameworks,
  ...elixirFrameworks,
  ...otherFrameworks,
};
