import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseSparkiConfig, parseSparkiJson, SparkiConfigError, sparkiJsonSchema } from './config';

const read = (path: string) =>
  readFile(join(dirname(fileURLToPath(import.meta.url)), path), 'utf8');

describe('sparki.json schema', () => {
  it('is published unchanged in docs/sparki.schema.json', async () => {
    const published = JSON.parse(await read('../../docs/sparki.schema.json'));
    expect(
      published,
      'regenerate: npm run sparki -- schema > docs/sparki.schema.json && npx biome format --write docs/sparki.schema.json',
    ).toEqual(sparkiJsonSchema());
  });

  it('accepts every field, null steps and a pinned package manager', () => {
    const config = {
      $schema: './node_modules/sparki/docs/sparki.schema.json',
      framework: 'astro',
      packageManager: 'pnpm@9.1.0',
      installCommand: 'pnpm install',
      buildCommand: 'pnpm run build:site',
      startCommand: null,
      outputDirectory: 'dist/client',
      runtime: 'node',
      runtimeVersion: '22',
    };
    expect(parseSparkiConfig(config, 'sparki.json')).toEqual(config);
  });

  it('accepts the sparki.json of the fixtures', async () => {
    const text = await read('../../test/fixtures/detect/sparki-json/sparki.json');
    expect(parseSparkiJson(text).buildCommand).toBe('npm run build:prod');
  });

  it('lists each failing field', () => {
    let error: unknown;
    try {
      parseSparkiConfig(
        {
          packageManager: 'cpan',
          buildCommand: '   ',
          outputDirectory: '/srv',
          extra: 1,
          more: 2,
        },
        'sparki.json',
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SparkiConfigError);
    expect((error as SparkiConfigError).issues.map((issue) => issue.path)).toEqual([
      'packageManager',
      'buildCommand',
      'outputDirectory',
      'extra',
      'more',
    ]);
    expect((error as Error).message).toMatch(
      /^sparki\.json is invalid:\n {2}- packageManager: a package manager name/,
    );
  });

  it('rejects a sparki.json that is not an object', () => {
    expect(() => parseSparkiJson('[]')).toThrow(/^sparki\.json is invalid:\n {2}- \(root\): /);
  });
});
