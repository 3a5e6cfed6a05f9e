import { z } from 'zod';
import { DetectionError, FRAMEWORK_IDS, PACKAGE_MANAGERS, RUNTIMES } from './types';

const command = (what: string) =>
  z
    .string()
    .trim()
    .min(1)
    .nullable()
    .optional()
    .describe(`${what}, run in the root directory. null skips the step.`);

const oneOf = (values: readonly string[]) => (issue: { input?: unknown }) =>
  `${JSON.stringify(issue.input)} is not one of ${values.join(', ')}`;

/**
 * `sparki.json` at the project's root directory, and project settings of the same shape. Every
 * field is optional and replaces what detection decided.
 */
export const sparkiConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe('The JSON Schema this file follows.'),
    framework: z
      .enum(FRAMEWORK_IDS, { error: oneOf(FRAMEWORK_IDS) })
      .optional()
      .describe('Framework preset: its default commands and output directory apply.'),
    packageManager: z
      .string()
      .regex(
        new RegExp(`^(${PACKAGE_MANAGERS.join('|')})(@[0-9A-Za-z.+-]+)?$`),
        `a package manager name, optionally with @version: ${PACKAGE_MANAGERS.join(', ')}`,
      )
      .optional()
      .describe('Package manager, e.g. "pnpm" or "pnpm@9.1.0".'),
    installCommand: command('Installs dependencies'),
    buildCommand: command('Builds the project'),
    startCommand: command('Starts the server'),
    outputDirectory: z
      .string()
      .trim()
      .min(1)
      .refine(
        (path) => !path.startsWith('/') && !path.split(/[\\/]/).includes('..'),
        'a path inside the project, without ".."',
      )
      .nullable()
      .optional()
      .describe('Directory of static output, relative to the root directory. null for none.'),
    runtime: z
      .enum(RUNTIMES, { error: oneOf(RUNTIMES) })
      .optional()
      .describe('Runtime the build and the app run on.'),
    runtimeVersion: z
      .string()
      .trim()
      .min(1)
      .optional()
      .describe('Runtime version, e.g. "22" for Node.js or "3.12" for Python.'),
  })
  .meta({
    title: 'sparki.json',
    description: 'Overrides for Sparki zero-config detection. Each field replaces one decision.',
  });

export type SparkiConfig = z.infer<typeof sparkiConfigSchema>;

/** sparki.json or project settings that do not follow the schema; `issues` name the fields. */
export class SparkiConfigError extends DetectionError {
  override name = 'SparkiConfigError';

  constructor(
    readonly source: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(
      `${source} is invalid:\n${issues.map((issue) => `  - ${issue.path}: ${issue.message}`).join('\n')}`,
    );
  }
}

/** Validates an already parsed object (project settings, or sparki.json after JSON.parse). */
export function parseSparkiConfig(value: unknown, source: string): SparkiConfig {
  const result = sparkiConfigSchema.safeParse(value);
  if (result.success) return result.data;
  throw new SparkiConfigError(
    source,
    result.error.issues.flatMap((issue) => {
      const at = issue.path.map(String).join('.');
      // One line per unknown key, so a typo is named outright.
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => ({
          path: at ? `${at}.${key}` : key,
          message: 'unknown field',
        }));
      }
      return [{ path: at || '(root)', message: issue.message }];
    }),
  );
}

/** Parses sparki.json text; malformed JSON is reported as an issue of the file itself. */
export function parseSparkiJson(text: string, source = 'sparki.json'): SparkiConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SparkiConfigError(source, [
      { path: '(root)', message: `not valid JSON: ${(error as Error).message}` },
    ]);
  }
  return parseSparkiConfig(value, source);
}

/** JSON Schema of sparki.json, as published in docs/sparki.schema.json. */
export function sparkiJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(sparkiConfigSchema, { target: 'draft-2020-12', io: 'input' });
}
