import { and, eq } from 'drizzle-orm';
import type { DeploymentState } from '../core/deploy/state-machine';
import type { Database } from '../db/client';
import { builds, deployments, deploymentTransitions, environments } from '../db/schema';

/**
 * A production history written straight into Postgres, as the deploy engine would have left it,
 * for the DORA tests of the API, the dashboard and the CLI. Times are hours after DORA_T0.
 *
 * Project `main` (the one passed first):
 * | name | commit (committed)     | states                                                      |
 * | a1   | "Add cart" (0 h)       | verifying 1 h 50 m, live 2 h                                |
 * | a2   | "Add wishlist" (10 h)  | verifying 11 h, live 12 h, rolled_back 13 h (by hand)       |
 * | a3   | "Faster images" (20 h) | verifying 22 h, failed 22 h 10 m, rolled_back 22 h 10 m     |
 * | a4   | "Hotfix: tax" (23 h)   | verifying 23 h 50 m, live 24 h                              |
 * | a5   | preview of "Try" (4 h) | live 5 h: a preview, never counted                          |
 * | a6   | "Broken env" (29 h)    | validating 30 h, failed 30 h: never reached production      |
 * Project `other` (if given): b1 "Docs" (3 h), verifying 4 h 50 m, live 5 h.
 *
 * Over [T0, T0 + 2 days), project main: 4 deployments (2 a day, elite); lead times a1 2 h, a2
 * 2 h, a4 1 h → median 2 h (elite); failed a2, a3 → 2 / 4 = 50 % (low); recoveries 1 h and 10 m
 * → median 35 m = 2100 s (elite); rework a4 (hotfix) → 1 / 4 = 25 %. The workspace adds b1:
 * 5 deployments, lead times 1 2 2 2 h → 2 h, 2 / 5 = 40 % failed, 1 / 5 = 20 % rework.
 */
export const DORA_T0 = Date.parse('2026-01-05T00:00:00Z');
const HOUR = 3_600_000;

interface Planned {
  name: string;
  message: string;
  committed: number;
  stage?: 'production' | 'preview';
  states: [DeploymentState, number][];
}

const MAIN: Planned[] = [
  {
    name: 'a1',
    message: 'Add cart',
    committed: 0,
    states: [
      ['verifying', 11 / 6],
      ['live', 2],
    ],
  },
  {
    name: 'a2',
    message: 'Add wishlist',
    committed: 10,
    states: [
      ['verifying', 11],
      ['live', 12],
      ['rolled_back', 13],
    ],
  },
  {
    name: 'a3',
    message: 'Faster images',
    committed: 20,
    states: [
      ['verifying', 22],
      ['failed', 22 + 1 / 6],
      ['rolled_back', 22 + 1 / 6],
    ],
  },
  {
    name: 'a4',
    message: 'Hotfix: tax',
    committed: 23,
    states: [
      ['verifying', 23 + 5 / 6],
      ['live', 24],
    ],
  },
  {
    name: 'a5',
    message: 'Try',
    committed: 4,
    stage: 'preview',
    states: [
      ['verifying', 4.9],
      ['live', 5],
    ],
  },
  {
    name: 'a6',
    message: 'Broken env',
    committed: 29,
    states: [
      ['validating', 30],
      ['failed', 30],
    ],
  },
];
const OTHER: Planned[] = [
  {
    name: 'b1',
    message: 'Docs',
    committed: 3,
    states: [
      ['verifying', 4 + 5 / 6],
      ['live', 5],
    ],
  },
];

async function seedProject(db: Database, projectId: string, planned: Planned[], t0: number) {
  const at = (hours: number) => new Date(t0 + hours * HOUR);
  const ids: Record<string, string> = {};
  for (const [index, plan] of planned.entries()) {
    const stage = plan.stage ?? 'production';
    const [environment] = await db
      .select({ id: environments.id })
      .from(environments)
      .where(and(eq(environments.projectId, projectId), eq(environments.kind, stage)));
    const [build] = await db
      .insert(builds)
      .values({
        projectId,
        number: 1000 + index,
        commitSha: (index + 1).toString(16).padStart(40, 'a'),
        branch: 'main',
        commitMessage: plan.message,
        committedAt: at(plan.committed),
        trigger: 'push',
        target: stage,
        status: 'succeeded',
      })
      .returning({ id: builds.id });
    const [deployment] = await db
      .insert(deployments)
      .values({
        projectId,
        buildId: build!.id,
        environmentId: environment!.id,
        stage,
        platform: 'edge',
        status: plan.states.at(-1)![0],
        createdAt: at(plan.states[0]![1] - 0.5),
      })
      .returning({ id: deployments.id });
    let from: DeploymentState | null = null;
    for (const [toStatus, hours] of plan.states) {
      await db
        .insert(deploymentTransitions)
        .values({ deploymentId: deployment!.id, fromStatus: from, toStatus, at: at(hours) });
      from = toStatus;
    }
    ids[plan.name] = deployment!.id;
  }
  return ids;
}

/** Seeds the history above from `t0` (DORA_T0 unless given); returns each deployment's id by name. */
export async function seedDoraHistory(
  db: Database,
  projects: { main: string; other?: string; t0?: number },
): Promise<Record<string, string>> {
  const t0 = projects.t0 ?? DORA_T0;
  return {
    ...(await seedProject(db, projects.main, MAIN, t0)),
    ...(projects.other ? await seedProject(db, projects.other, OTHER, t0) : {}),
  };
}
