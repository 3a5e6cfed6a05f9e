import { createRoute, z } from '@hono/zod-openapi';
import { DeployConfigSchema } from '../../../core/deploy/config';
import { checkOutboundUrl, type OutboundUrlPolicy, urlSettings } from '../../../core/outbound-url';
import { encryptSecret } from '../../../core/secret-box';
import {
  checkStrategy,
  deployAdapter,
  PROVIDERS,
  type Problem,
  STRATEGIES,
} from '../../../domain/deployments/adapters';
import { schemaProblems } from '../../../domain/deployments/adapters/adapter';
import { environmentCredentials } from '../../../domain/deployments/credentials';
import {
  type EnvironmentRow,
  updateDeploySettings,
} from '../../../domain/environments/environments';
import { outboundPolicy } from '../../../platform/config';
import { ApiError } from '../../../platform/errors';
import { auditFor } from '../../audit';
import { openApiErrorResponses } from '../../errors';
import { json, jsonBody } from '../../openapi';
import { newRouter } from '../../router';
import { EnvironmentParams, loadEnvironment } from './schemas';

const EDGE_TARGET = 'edge';
const TARGETS = [EDGE_TARGET, ...PROVIDERS] as const;
type DeployTarget = (typeof TARGETS)[number];

const DeploySettingsSchema = z
  .object({
    environment_id: z.uuid(),
    deploy_target: z.enum(TARGETS),
    strategy: z.enum(STRATEGIES),
    supported_strategies: z.array(z.enum(STRATEGIES)),
    auto_deploy: z.boolean(),
    deploy_config: z.record(z.string(), z.unknown()).openapi({
      description:
        'Health check, SPA fallback, required variables and canary steps; `image`, for ' +
        'image-based targets, the reference the build pushes with `{commit_sha}`, ' +
        '`{short_sha}`, `{build_number}` and `{branch}` filled per build; `adapter` holds the ' +
        'external target’s own settings',
    }),
    credentials_set: z.array(z.string()).openapi({
      description: 'Names of the stored credential fields; their values are never returned',
    }),
    updated_at: z.iso.datetime(),
  })
  .openapi('DeploySettings');

const UpdateDeploySettingsSchema = z
  .strictObject({
    deploy_target: z.enum(TARGETS).optional(),
    strategy: z.enum(STRATEGIES).optional(),
    auto_deploy: z.boolean().optional(),
    deploy_config: z.record(z.string(), z.unknown()).optional(),
    credentials: z
      .record(z.string(), z.string())
      .nullable()
      .optional()
      .openapi({
        description:
          'Write-only, stored encrypted (AES-GCM). `null` removes them. Changing the target ' +
          'without new credentials removes the old target’s credentials.',
      }),
  })
  .openapi('UpdateDeploySettings');

function supportedStrategies(target: DeployTarget) {
  return target === EDGE_TARGET
    ? [...STRATEGIES]
    : [...deployAdapter(target).capabilities.strategies];
}

async function toSettings(key: string, row: EnvironmentRow) {
  const target = row.deployTarget as DeployTarget;
  return {
    environment_id: row.id,
    deploy_target: target,
    strategy: row.strategy,
    supported_strategies: supportedStrategies(target),
    auto_deploy: row.autoDeploy,
    deploy_config: row.deployConfig,
    credentials_set: Object.keys(await environmentCredentials(key, row)).sort(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** Everything wrong with the settings an environment would have after the change. */
function settingsProblems(
  target: DeployTarget,
  strategy: (typeof STRATEGIES)[number],
  deployConfig: Record<string, unknown>,
  credentials: Record<string, string> | undefined,
  outbound: OutboundUrlPolicy,
): Problem[] {
  const problems = schemaProblems('config', DeployConfigSchema, deployConfig).map((problem) => ({
    ...problem,
    field: problem.field.replace(/^config/, 'deploy_config'),
  }));
  const hasImage = deployConfig.image !== undefined;
  if (target === EDGE_TARGET) {
    if (credentials) {
      problems.push({ field: 'credentials', message: 'the edge host takes no credentials' });
    }
    if (hasImage) {
      problems.push({
        field: 'deploy_config.image',
        message: 'the edge host serves the build output files, not a container image',
      });
    }
    return problems;
  }
  const adapter = deployAdapter(target);
  if (adapter.capabilities.image === 'required' && !hasImage) {
    problems.push({
      field: 'deploy_config.image',
      message:
        `missing setting image: ${adapter.name} runs a container image; set the reference the ` +
        'build pushes, e.g. registry.example.com/app:{commit_sha}',
    });
  }
  if (adapter.capabilities.image === 'unused' && hasImage) {
    problems.push({
      field: 'deploy_config.image',
      message: `${adapter.name} deploys the build output files, not a container image`,
    });
  }
  problems.push(
    ...checkStrategy(adapter, strategy),
    ...schemaProblems('config', adapter.configSchema, deployConfig.adapter).map((problem) => ({
      ...problem,
      field: problem.field.replace(/^config/, 'deploy_config.adapter'),
    })),
  );
  if (credentials)
    problems.push(...schemaProblems('credentials', adapter.credentialsSchema, credentials));
  // Sparki calls every URL of the settings: none may point into a private network (SSRF).
  const parsed = adapter.configSchema.safeParse(deployConfig.adapter ?? {});
  for (const { key, url } of parsed.success ? urlSettings(parsed.data) : []) {
    const checked = checkOutboundUrl(url, outbound);
    if (!checked.ok) {
      problems.push({ field: `deploy_config.adapter.${key}`, message: checked.message });
    }
  }
  return problems;
}

/** `/api/environments/{id}/deploy-settings`: where and how an environment deploys. */
export const deploySettingsRoutes = newRouter();

deploySettingsRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/deploy-settings',
    tags: ['environments'],
    summary: 'Deploy target, strategy and settings of an environment (credentials never shown)',
    request: { params: EnvironmentParams },
    responses: {
      200: { description: 'Deploy settings', ...json(DeploySettingsSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { row } = await loadEnvironment(c, id, 'viewer');
    return c.json(await toSettings(c.get('services').config.ENCRYPTION_KEY, row), 200);
  },
);

deploySettingsRoutes.openapi(
  createRoute({
    method: 'patch',
    path: '/{id}/deploy-settings',
    tags: ['environments'],
    summary: 'Change where and how an environment deploys (admin)',
    description:
      'The target is `edge` (the built-in host) or an adapter id. A strategy the target does not ' +
      'support, or adapter settings/credentials that do not fit its schema, is a 400 naming each ' +
      'problem.',
    request: { params: EnvironmentParams, ...jsonBody(UpdateDeploySettingsSchema) },
    responses: {
      200: { description: 'Updated', ...json(DeploySettingsSchema) },
      ...openApiErrorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const { row, access } = await loadEnvironment(c, id, 'admin');
    const { db, config } = c.get('services');
    const target = input.deploy_target ?? (row.deployTarget as DeployTarget);
    const strategy = input.strategy ?? row.strategy;
    const deployConfig = input.deploy_config ?? row.deployConfig;
    const targetChanged = target !== row.deployTarget;
    const problems = settingsProblems(
      target,
      strategy,
      deployConfig,
      input.credentials ?? undefined,
      outboundPolicy(config),
    );
    if (problems.length > 0) {
      throw new ApiError('validation_failed', 'The deploy settings are not valid', { problems });
    }
    // Credentials belong to one provider: a new target never inherits the old one's.
    const credentialsEncrypted = input.credentials
      ? await encryptSecret(config.ENCRYPTION_KEY, JSON.stringify(input.credentials))
      : input.credentials === null || targetChanged
        ? null
        : row.credentialsEncrypted;
    const change = {
      deployTarget: target,
      strategy,
      autoDeploy: input.auto_deploy ?? row.autoDeploy,
      deployConfig,
      credentialsEncrypted,
    };
    const updated = await updateDeploySettings(
      db(),
      row.id,
      change,
      {
        changed: Object.keys(input).sort(),
        deploy_target: target,
        strategy,
        credentials:
          credentialsEncrypted === row.credentialsEncrypted
            ? 'unchanged'
            : credentialsEncrypted
              ? 'set'
              : 'removed',
      },
      auditFor(c, access),
    );
    return c.json(await toSettings(config.ENCRYPTION_KEY, updated), 200);
  },
);
