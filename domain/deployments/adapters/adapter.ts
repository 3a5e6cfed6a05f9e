import type { z } from 'zod';
import type {
  Artifact,
  ArtifactInfo,
  Capabilities,
  DeployAdapter,
  DeployRequest,
  Fetch,
  Problem,
  ProviderId,
  ProviderRef,
  ProviderStatus,
  Strategy,
  Target,
} from './types';

/** A deploy asked for something this target cannot do; nothing was sent to the provider. */
export class AdapterValidationError extends Error {
  constructor(
    readonly provider: ProviderId,
    readonly problems: Problem[],
  ) {
    super(
      `${provider}: ${problems.map((problem) => `${problem.field}: ${problem.message}`).join('; ')}`,
    );
  }
}

export class UnsupportedOperationError extends Error {
  constructor(
    readonly provider: ProviderId,
    readonly operation: string,
  ) {
    super(`${provider} does not support ${operation}`);
  }
}

/** Pure: the strategy problem, if any, of running `strategy` on `adapter`. */
export function checkStrategy(
  adapter: Pick<DeployAdapter, 'id' | 'name' | 'capabilities'>,
  strategy: Strategy,
): Problem[] {
  if (adapter.capabilities.strategies.includes(strategy)) return [];
  return [
    {
      field: 'strategy',
      message: `${adapter.name} does not support ${strategy} (supported: ${adapter.capabilities.strategies.join(', ')})`,
    },
  ];
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** zod issues rewritten as "missing credential apiToken" / "invalid config appName: …". */
export function schemaProblems(
  prefix: 'config' | 'credentials',
  schema: z.ZodType,
  input: unknown,
): Problem[] {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return [];
  const noun = prefix === 'config' ? 'setting' : 'credential';
  return parsed.error.issues.map((issue) => {
    const name = issue.path.map(String).join('.');
    const field = name ? `${prefix}.${name}` : prefix;
    const missing = issue.path.length > 0 && valueAt(input, issue.path) === undefined;
    return {
      field,
      message: missing ? `missing ${noun} ${name}` : `invalid ${noun} ${name}: ${issue.message}`,
    };
  });
}

export interface Context<C, K> {
  config: C;
  credentials: K;
  fetch: Fetch;
}

interface Definition<C, K> {
  id: ProviderId;
  name: string;
  docsUrl: string;
  capabilities: Capabilities;
  configSchema: z.ZodType<C>;
  credentialsSchema: z.ZodType<K>;
  /** The provider-side thing the config deploys to; see `DeployAdapter.targetKey`. */
  targetKey(config: C): string;
  /** What this provider needs from the build beyond an image (files, a commit, a download URL…). */
  checkArtifact?(artifact: ArtifactInfo, config: C): Problem[];
  deploy(context: Context<C, K>, request: DeployRequest): Promise<ProviderRef>;
  status(context: Context<C, K>, ref: ProviderRef): Promise<ProviderStatus>;
  promote?(context: Context<C, K>, ref: ProviderRef, percent: number): Promise<void>;
  rollback(context: Context<C, K>, to: ProviderRef): Promise<ProviderRef>;
}

/** Pure: the problem, if any, of handing `adapter` a build without an image. */
export function checkImage(
  adapter: Pick<DeployAdapter, 'name' | 'capabilities'>,
  artifact: ArtifactInfo,
): Problem[] {
  if (adapter.capabilities.image !== 'required' || artifact.image) return [];
  return [
    {
      field: 'artifact.image',
      message:
        `${adapter.name} runs a container image and the build has none: set deploy_config.image ` +
        'to the reference the build pushes, e.g. registry.example.com/app:{commit_sha}',
    },
  ];
}

/**
 * Wraps a provider so every entry point re-parses the stored config and credentials and refuses,
 * before any request, what validation would refuse.
 */
export function defineAdapter<C, K>(definition: Definition<C, K>): DeployAdapter {
  const validate = (
    config: unknown,
    credentials: unknown,
    artifact: ArtifactInfo,
    strategy?: Strategy,
  ): Problem[] => {
    const problems = [
      ...schemaProblems('config', definition.configSchema, config),
      ...schemaProblems('credentials', definition.credentialsSchema, credentials),
      ...(strategy ? checkStrategy(definition, strategy) : []),
    ];
    problems.push(...checkImage(definition, artifact));
    const parsed = definition.configSchema.safeParse(config ?? {});
    if (parsed.success) problems.push(...(definition.checkArtifact?.(artifact, parsed.data) ?? []));
    return problems;
  };

  const context = (target: Target): Context<C, K> => {
    const config = definition.configSchema.safeParse(target.config ?? {});
    const credentials = definition.credentialsSchema.safeParse(target.credentials ?? {});
    if (!config.success || !credentials.success) {
      throw new AdapterValidationError(definition.id, [
        ...schemaProblems('config', definition.configSchema, target.config),
        ...schemaProblems('credentials', definition.credentialsSchema, target.credentials),
      ]);
    }
    return { config: config.data, credentials: credentials.data, fetch: target.fetch };
  };

  return {
    id: definition.id,
    name: definition.name,
    docsUrl: definition.docsUrl,
    capabilities: definition.capabilities,
    configSchema: definition.configSchema,
    credentialsSchema: definition.credentialsSchema,
    targetKey(config) {
      const parsed = definition.configSchema.safeParse(config ?? {});
      return parsed.success ? definition.targetKey(parsed.data) : undefined;
    },
    validate,
    async deploy(target, request) {
      const problems = validate(
        target.config,
        target.credentials,
        request.artifact,
        request.strategy,
      );
      if (request.strategy === 'canary') {
        const percent = request.canaryPercent;
        if (percent === undefined || !(percent >= 1 && percent <= 99)) {
          problems.push({ field: 'canaryPercent', message: 'a canary needs a share from 1 to 99' });
        }
      }
      if (problems.length > 0) throw new AdapterValidationError(definition.id, problems);
      return definition.deploy(context(target), request);
    },
    async status(target, ref) {
      return definition.status(context(target), ref);
    },
    async promote(target, ref, percent = 100) {
      if (!definition.promote || definition.capabilities.promote === 'none') {
        throw new UnsupportedOperationError(definition.id, 'promote');
      }
      if (!(percent > 0 && percent <= 100)) {
        throw new AdapterValidationError(definition.id, [
          { field: 'percent', message: 'a traffic share is from 1 to 100' },
        ]);
      }
      if (percent < 100) {
        const problems = checkStrategy(definition, 'canary');
        if (problems.length > 0) throw new AdapterValidationError(definition.id, problems);
      }
      return definition.promote(context(target), ref, percent);
    },
    async rollback(target, to) {
      return definition.rollback(context(target), to);
    },
  };
}

/** The bytes of one output file, for adapters that upload files themselves. */
export function readArtifactFile(
  provider: ProviderId,
  artifact: Artifact,
  path: string,
): Promise<Uint8Array> {
  if (!artifact.read) {
    throw new AdapterValidationError(provider, [
      { field: 'artifact', message: 'the build output is not readable from here' },
    ]);
  }
  return artifact.read(path);
}
