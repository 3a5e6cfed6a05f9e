import { isRecord, type Project } from './project';
import { joinPath } from './source-tree';
import type { Decision, PackageManager, PackageManagerName } from './types';

// npm, pnpm, Yarn (classic or Berry) and Bun: which one a project uses, and how it spells commands.

type NodePackageManager = 'npm' | 'pnpm' | 'yarn' | 'bun';

// When several lockfiles sit side by side, the odd one out is usually a stale
// package-lock.json from a stray `npm install`, so npm's come last.
const NODE_LOCKFILES: Record<NodePackageManager, string[]> = {
  bun: ['bun.lock', 'bun.lockb'],
  pnpm: ['pnpm-lock.yaml'],
  yarn: ['yarn.lock'],
  npm: ['package-lock.json', 'npm-shrinkwrap.json'],
};
const LOCKFILE_MANAGER = new Map(
  Object.entries(NODE_LOCKFILES).flatMap(([manager, files]) =>
    files.map((file) => [file, manager as NodePackageManager]),
  ),
);

const PINNED = /^(npm|pnpm|yarn|bun)@([^+\s]+)(?:\+\S+)?$/;

export const RUN: Record<NodePackageManager, (script: string) => string> = {
  npm: (script) => `npm run ${script}`,
  pnpm: (script) => `pnpm run ${script}`,
  yarn: (script) => `yarn ${script}`,
  bun: (script) => `bun run ${script}`,
};
export const EXEC: Record<NodePackageManager, (command: string) => string> = {
  npm: (command) => `npx ${command}`,
  pnpm: (command) => `pnpm exec ${command}`,
  yarn: (command) => `yarn ${command}`,
  bun: (command) => `bunx ${command}`,
};

/** Parses `pnpm@9.1.0` (package.json, sparki.json) or a bare name. */
export function parsePackageManager(spec: string): PackageManager {
  const at = spec.indexOf('@', 1);
  const name = (at < 0 ? spec : spec.slice(0, at)) as PackageManagerName;
  const version = at < 0 ? null : spec.slice(at + 1).replace(/\+.*$/, '');
  return { name, version };
}

export function formatPackageManager(manager: PackageManager): string {
  return manager.version ? `${manager.name}@${manager.version}` : manager.name;
}

function packageManagerField(raw: string): unknown {
  try {
    const parsed: unknown = JSON.parse(raw);
    return isRecord(parsed) ? parsed.packageManager : undefined;
  } catch {
    // A broken package.json above the root directory is not this project's to report.
    return undefined;
  }
}

/** The `packageManager` field (Corepack), read in the root directory, then towards the top. */
async function pinnedManager(project: Project) {
  for (const dir of project.dirsUp()) {
    const raw = await project.readInCheckout(joinPath(dir, 'package.json'));
    const field = raw === undefined ? undefined : packageManagerField(raw);
    if (typeof field === 'string' && PINNED.test(field)) {
      return {
        manager: parsePackageManager(field),
        evidence: `${project.label(dir, 'package.json')} "packageManager": "${field}"`,
      };
    }
  }
  return undefined;
}

async function isYarnBerry(project: Project, version: string | null, lockfile: string | undefined) {
  if (version) return Number.parseInt(version, 10) >= 2;
  if ((await project.findUp('.yarnrc.yml')).length > 0) return true;
  const lock = lockfile && (await project.readInCheckout(lockfile));
  return lock?.includes('__metadata:') ?? false;
}

export async function nodeToolchain(project: Project, forced?: Decision<PackageManager>) {
  const pinned = await pinnedManager(project);
  const lockfiles = await project.findUp(...LOCKFILE_MANAGER.keys());
  const nearest = lockfiles[0];
  let decision: Decision<PackageManager>;
  if (forced) {
    decision = forced;
  } else if (pinned) {
    const other = lockfiles.find((file) => LOCKFILE_MANAGER.get(file.name) !== pinned.manager.name);
    decision = {
      value: pinned.manager,
      evidence: other ? `${pinned.evidence} (wins over ${other.label})` : pinned.evidence,
    };
  } else if (nearest) {
    const others = lockfiles.slice(1).map((file) => file.label);
    decision = {
      value: { name: LOCKFILE_MANAGER.get(nearest.name)!, version: null },
      evidence: others.length
        ? `${nearest.label} (also found ${others.join(', ')})`
        : nearest.label,
    };
  } else {
    decision = { value: { name: 'npm', version: null }, evidence: 'no lockfile: npm by default' };
  }

  const name = decision.value.name as NodePackageManager;
  const [lockfile] = await project.findUp(...NODE_LOCKFILES[name]);
  let install: Decision<string>;
  if (!lockfile) {
    install = {
      value: `${name} install`,
      evidence: `no ${NODE_LOCKFILES[name][0]}: versions are resolved afresh`,
    };
  } else if (name === 'npm') {
    install = {
      value: 'npm ci',
      evidence: `${lockfile.label}: install exactly the locked versions`,
    };
  } else if (name === 'yarn') {
    const berry = await isYarnBerry(project, decision.value.version, lockfile.path);
    install = berry
      ? { value: 'yarn install --immutable', evidence: `${lockfile.label} (Yarn Berry)` }
      : { value: 'yarn install --frozen-lockfile', evidence: `${lockfile.label} (Yarn classic)` };
  } else {
    install = {
      value: `${name} install --frozen-lockfile`,
      evidence: `${lockfile.label}: install exactly the locked versions`,
    };
  }
  return { packageManager: decision, install, run: RUN[name], exec: EXEC[name] };
}
