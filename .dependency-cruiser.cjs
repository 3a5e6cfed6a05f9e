// Imports only point down: core → db → platform → domain → the entry adapters (workers/,
// queues/, durable-objects/) → the entry (workers/index.ts). docs/architecture.md explains each.
const BELOW = {
  core: [],
  db: ['core'],
  platform: ['core', 'db'],
  domain: ['core', 'db', 'platform'],
};
const ALL = [
  'core',
  'db',
  'platform',
  'domain',
  'workers',
  'queues',
  'durable-objects',
  'cli',
  'dev',
  'bench',
  'test',
];
const ADAPTERS = ['workers', 'queues', 'durable-objects'];

const layerRules = Object.entries(BELOW).map(([layer, below]) => ({
  name: `${layer}-imports-only-below`,
  comment: `${layer}/ may import ${below.length ? below.join(', ') : 'nothing of the project'} (and itself)`,
  severity: 'error',
  from: { path: `^${layer}/` },
  to: { path: `^(${ALL.filter((other) => other !== layer && !below.includes(other)).join('|')})/` },
}));

const adapterRules = ADAPTERS.map((adapter) => ({
  name: `${adapter}-is-an-adapter`,
  comment: `${adapter}/ builds on domain/ and below, never on another entry adapter (only the entry file joins them)`,
  severity: 'error',
  from: { path: `^${adapter}/`, pathNot: '^workers/index\\.ts$' },
  to: { path: `^(${ADAPTERS.filter((other) => other !== adapter).join('|')}|cli|dev|bench|test)/` },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'No import cycles; drizzle table files may refer to each other (environments and deployments point at one another)',
      severity: 'error',
      from: { pathNot: '^db/schema/' },
      to: { circular: true },
    },
    ...layerRules,
    ...adapterRules,
    {
      name: 'cli-stands-alone',
      comment: 'The CLI and runner agent are packed on their own: they use core/ only',
      severity: 'error',
      from: { path: '^cli/' },
      to: { path: '^(db|platform|domain|workers|queues|durable-objects|dev|bench|test)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', '\\.test\\.ts$', '^test/'] },
    tsConfig: { fileName: 'tsconfig.json' },
    // TypeScript 7 has no JavaScript API for dependency-cruiser to parse with; swc reads the sources.
    parser: 'swc',
    enhancedResolveOptions: { extensions: ['.ts', '.mjs', '.js', '.json', '.d.ts'] },
  },
};
