import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { DetectionReportSchema } from '../../../core/runner-protocol';
import type { Project } from '../../../db/schema';
import { buildStatus } from '../../../db/schema/enums';
import { type LatestBuild, projectOverviews } from '../../../domain/projects/overview';
import type { ProjectChanges } from '../../../domain/projects/projects';
import type { HonoEnv } from '../../context';

export const SlugSchema = z
  .string()
  .min(1)
  .max(60)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, 'lower-case letters, digits and inner hyphens');

export const BranchSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^(?!\/|.*\/\/|.*\.\.|.*@\{)[^\s~^:?*[\\]+(?<![/.])$/, 'a valid git branch name');

// Relative and inside the repository: a root directory is joined to the checkout path.
export const RootDirSchema = z
  .string()
  .max(255)
  .regex(/^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[^\\]*$/, 'a relative path inside the repository');

// An absolute path is stored as given: git on the runner takes it as readily as a file:// URL.
const ABSOLUTE_PATH = /^\/(?!\/)\P{Cc}*$/u;

export const RepoUrlSchema = z
  .string()
  .max(500)
  .refine((value) => ABSOLUTE_PATH.test(value) || z.url().safeParse(value).success, {
    message: 'a URL git accepts (https://, ssh://, git://, file://) or an absolute local path',
  })
  .openapi({
    description:
      'Where the runner fetches the code: any URL git accepts, or an absolute path (or `file://` URL) on the runner’s machine. Only a runner can reach a local path: the platform never reads it.',
    example: 'https://github.com/acme/web.git',
  });

const ProjectSettingsSchema = z
  .object({
    name: z.string().min(1).max(100),
    git_provider: z.enum(['github', 'gitlab', 'gitea', 'none']),
    repo_url: RepoUrlSchema.nullable(),
    production_branch: BranchSchema,
    root_dir: RootDirSchema,
  })
  .partial();

export const CreateProjectSchema = ProjectSettingsSchema.extend({
  name: z.string().min(1).max(100),
  slug: SlugSchema,
}).openapi('CreateProject');

export const UpdateProjectSchema = ProjectSettingsSchema.openapi('UpdateProject');

const ProjectDetectionSchema = DetectionReportSchema.extend({
  build_id: z.uuid(),
  build_number: z.number().int().positive(),
  detected_at: z.iso.datetime(),
}).openapi('ProjectDetection', {
  description:
    'What the newest build that reached detection found, and which build that was: framework (with the reason), package manager, commands and output directory (relative to `root_dir`).',
});

const LatestBuildSchema = z
  .object({
    id: z.uuid(),
    number: z.number().int(),
    status: z.enum(buildStatus.enumValues),
    branch: z.string().nullable(),
    created_at: z.iso.datetime(),
    finished_at: z.iso.datetime().nullable(),
  })
  .openapi('LatestBuild');

export const ProjectSchema = z
  .object({
    id: z.uuid(),
    workspace_id: z.uuid(),
    name: z.string(),
    slug: z.string(),
    git_provider: z.enum(['github', 'gitlab', 'gitea', 'none']),
    repo_url: z.string().nullable(),
    production_branch: z.string(),
    root_dir: z.string(),
    framework: z.string().nullable().openapi({
      description: 'The framework the newest build detected; null before any build did',
    }),
    detection: ProjectDetectionSchema.nullable(),
    production_url: z.string().nullable().openapi({
      description:
        'Where production visitors reach the project (the edge host’s project host, or the live deployment’s URL on another platform); null while nothing is live in production',
      example: 'https://shop.sites.example.com',
    }),
    latest_build: LatestBuildSchema.nullable().openapi({
      description: 'The newest build (highest number), whatever its status; null before any',
    }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi('Project');

export const CreatedProjectSchema = ProjectSchema.extend({
  webhook_secret: z.string().openapi({
    description: 'Shown once: paste it into the git provider’s webhook settings.',
  }),
}).openapi('CreatedProject');

/** `/api/projects/{id}/…` */
export const ProjectParams = z.object({ id: z.uuid() });

/** The project as the API shows it. */
export function toProject(
  row: Project,
  productionUrl: string | null,
  latestBuild: LatestBuild | null = null,
) {
  return {
    id: row.id,
    workspace_id: row.workspaceId,
    name: row.name,
    slug: row.slug,
    git_provider: row.gitProvider,
    repo_url: row.repoUrl,
    production_branch: row.productionBranch,
    root_dir: row.rootDir,
    framework: row.framework,
    // Postgres keeps jsonb keys in an order of its own; the API gives the schema's.
    detection: row.detection && ProjectDetectionSchema.parse(row.detection),
    production_url: productionUrl,
    latest_build: latestBuild && {
      id: latestBuild.id,
      number: latestBuild.number,
      status: latestBuild.status,
      branch: latestBuild.branch,
      created_at: latestBuild.createdAt.toISOString(),
      finished_at: latestBuild.finishedAt?.toISOString() ?? null,
    },
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** Projects as the API shows them, each with where production is live. */
export async function showProjects(c: Context<HonoEnv>, rows: Project[]) {
  const { db, config } = c.get('services');
  const overviews = await projectOverviews(
    db(),
    config,
    rows.map((row) => row.id),
  );
  return rows.map((row) => {
    const overview = overviews.get(row.id);
    return toProject(row, overview?.productionUrl ?? null, overview?.latestBuild ?? null);
  });
}

/** The columns the given settings write; fields left out stay as they are. */
export function projectChanges(input: z.infer<typeof ProjectSettingsSchema>): ProjectChanges {
  return {
    ...(input.name !== undefined && { name: input.name }),
    ...(input.git_provider !== undefined && { gitProvider: input.git_provider }),
    ...(input.repo_url !== undefined && { repoUrl: input.repo_url }),
    ...(input.production_branch !== undefined && { productionBranch: input.production_branch }),
    ...(input.root_dir !== undefined && { rootDir: input.root_dir }),
  };
}

export const DetectPreviewRequestSchema = z
  .object({
    repo_url: RepoUrlSchema,
    production_branch: BranchSchema.default('main'),
    root_dir: RootDirSchema.default(''),
  })
  .openapi('DetectPreviewRequest');

export const DetectPreviewSchema = z
  .object({
    status: z.enum(['detected', 'failed', 'deferred']).openapi({
      description:
        '`detected`: read from the repository now; `failed`: read, but detection refused it (a root directory that does not exist…); `deferred`: the platform cannot read it, the first build detects',
    }),
    source: z.literal('github').optional(),
    detection: DetectionReportSchema.optional(),
    reason: z.string().optional(),
  })
  .openapi('DetectPreview');
