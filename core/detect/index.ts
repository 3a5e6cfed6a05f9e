export {
  parseSparkiConfig,
  parseSparkiJson,
  type SparkiConfig,
  SparkiConfigError,
  sparkiConfigSchema,
  sparkiJsonSchema,
} from './config';
export { type DetectOptions, detect } from './detect';
export { FRAMEWORKS } from './frameworks';
export { formatPackageManager } from './node-toolchain';
export { memoryTree, normalizePath, type SourceTree } from './source-tree';
export * from './types';
