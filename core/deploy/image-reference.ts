import { z } from 'zod';

/**
 * An environment's image reference template (`deploy_config.image`), e.g.
 * `registry.fly.io/shop:{commit_sha}`: the image the user's build pushes, resolved per build into
 * the reference an image-based platform (Fly Machines, image-backed Render or Railway services)
 * deploys. docs/deploy-adapters.md ("Container images") is the user's side of it.
 */

export const IMAGE_PLACEHOLDERS = ['commit_sha', 'short_sha', 'build_number', 'branch'] as const;
export type ImagePlaceholder = (typeof IMAGE_PLACEHOLDERS)[number];

/** At least one of these, so that every build deploys (and a rollback returns to) its own image. */
const BUILD_SPECIFIC: readonly ImagePlaceholder[] = ['commit_sha', 'short_sha', 'build_number'];

export interface ImageBuild {
  commitSha: string | null;
  number: number;
  branch: string | null;
}

// The grammar of github.com/distribution/reference: [host[:port]/]path[:tag][@digest].
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(
  `^(?:${HOST}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`,
);
const NAME_MAX = 255;

/** True for a reference a registry accepts: `ghcr.io/acme/shop:1.2`, `app@sha256:…`. */
export function isImageReference(reference: string): boolean {
  if (!REFERENCE.test(reference)) return false;
  const name = reference.split('@')[0]!.replace(/:[\w][\w.-]*$/, '');
  return name.length <= NAME_MAX;
}

/**
 * The branch as it may appear in a reference: lowercase, every character outside a–z and 0–9
 * replaced by `-`, at most 63 characters, no leading or trailing `-` (GitLab's CI_COMMIT_REF_SLUG).
 */
export function branchSlug(branch: string): string {
  return branch
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
}

type Part = { text: string } | { placeholder: string };

/** The template split into text and placeholders, or what is malformed about its braces. */
function parse(template: string): { parts: Part[] } | { problem: string } {
  const parts: Part[] = [];
  let index = 0;
  while (index < template.length) {
    const open = template.indexOf('{', index);
    const close = template.indexOf('}', index);
    if (close !== -1 && (open === -1 || close < open)) {
      return { problem: `has a } without a matching { at position ${close + 1}` };
    }
    if (open === -1) {
      parts.push({ text: template.slice(index) });
      break;
    }
    const end = template.indexOf('}', open);
    const nested = template.indexOf('{', open + 1);
    if (end === -1 || (nested !== -1 && nested < end)) {
      return { problem: `has a { without a matching } at position ${open + 1}` };
    }
    if (open > index) parts.push({ text: template.slice(index, open) });
    parts.push({ placeholder: template.slice(open + 1, end) });
    index = end + 1;
  }
  return { parts };
}

const known = (name: string): name is ImagePlaceholder =>
  (IMAGE_PLACEHOLDERS as readonly string[]).includes(name);

const KNOWN_LIST = IMAGE_PLACEHOLDERS.map((name) => `{${name}}`).join(', ');

/** A build whose values are valid anywhere a placeholder may stand. */
const SAMPLE: ImageBuild = { commitSha: '0'.repeat(40), number: 1, branch: 'main' };

function fill(parts: Part[], values: Record<ImagePlaceholder, string>): string {
  return parts
    .map((part) => ('text' in part ? part.text : values[part.placeholder as ImagePlaceholder]))
    .join('');
}

/** Everything wrong with a template, each naming what to change; empty when it is usable. */
export function imageTemplateProblems(template: string): string[] {
  if (template.trim() === '') return ['is empty'];
  const parsed = parse(template);
  if ('problem' in parsed) return [parsed.problem];
  const names = parsed.parts.flatMap((part) => ('placeholder' in part ? [part.placeholder] : []));
  const unknown = [...new Set(names.filter((name) => !known(name)))];
  if (unknown.length > 0) {
    return unknown.map((name) => `has an unknown placeholder {${name}} (known: ${KNOWN_LIST})`);
  }
  const problems: string[] = [];
  if (!names.some((name) => (BUILD_SPECIFIC as readonly string[]).includes(name))) {
    problems.push(
      'names no build: add {commit_sha}, {short_sha} or {build_number} so every build deploys ' +
        'its own image and a rollback can return to an earlier one',
    );
  }
  const sample = fill(parsed.parts, placeholderValues(SAMPLE, 'main'));
  if (!isImageReference(sample)) {
    problems.push(
      `is not an image reference once filled in (${sample}): expected ` +
        '[registry/]repository[:tag][@digest] with a lowercase repository',
    );
  }
  return problems;
}

function placeholderValues(build: ImageBuild, slug: string): Record<ImagePlaceholder, string> {
  return {
    commit_sha: build.commitSha ?? '',
    short_sha: build.commitSha?.slice(0, 7) ?? '',
    build_number: String(build.number),
    branch: slug,
  };
}

/** `deploy_config.image`: checked when the settings are saved, so a deploy never meets a bad one. */
export const ImageTemplateSchema = z.string().superRefine((template, ctx) => {
  for (const message of imageTemplateProblems(template)) ctx.addIssue({ code: 'custom', message });
});

/** The reference one build deploys, or why this build cannot fill the template. */
export function resolveImageTemplate(
  template: string,
  build: ImageBuild,
): { image: string } | { problem: string } {
  const problems = imageTemplateProblems(template);
  if (problems.length > 0) return { problem: `the image template ${problems.join('; ')}` };
  const parsed = parse(template) as { parts: Part[] };
  const uses = (name: ImagePlaceholder) =>
    parsed.parts.some((part) => 'placeholder' in part && part.placeholder === name);
  if (!build.commitSha && (uses('commit_sha') || uses('short_sha'))) {
    return { problem: 'the build has no commit to fill {commit_sha} or {short_sha}' };
  }
  const usesBranch = uses('branch');
  const slug = build.branch ? branchSlug(build.branch) : '';
  if (usesBranch && !slug) {
    return {
      problem: build.branch
        ? `the branch ${build.branch} leaves nothing for {branch} once made a slug`
        : 'the build has no branch to fill {branch} (a tag or manual build)',
    };
  }
  const image = fill(parsed.parts, placeholderValues(build, slug));
  if (!isImageReference(image)) {
    return { problem: `the image template gives ${image} for this build, not an image reference` };
  }
  return { image };
}
