import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoraReport } from '../../core/dora/report';
import { DORA_T0, seedDoraHistory } from '../dora-history';
import { anonymous, as, type ErrorEnvelope } from './api-client';
import { newUser } from './auth-helpers';
import { testDb } from './harness';
import { addMember, type ProjectFixture, projectFixture } from './project-fixtures';

const { db, pool } = testDb();
afterAll(() => pool.end());

const DAY = 86_400_000;
/** The two days the seeded history lies in (test/dora-history.ts works its figures out). */
const WINDOW = `from=${new Date(DORA_T0).toISOString()}&to=${new Date(DORA_T0 + 2 * DAY).toISOString()}`;

let fixture: ProjectFixture;
let otherProjectId: string;
let ids: Record<string, string>;

beforeAll(async () => {
  fixture = await projectFixture();
  const other = await as(fixture.owner).post<{ id: string }>(
    `/api/workspaces/${fixture.workspace.id}/projects`,
    { name: 'Docs', slug: `docs-${crypto.randomUUID().slice(0, 8)}`, git_provider: 'none' },
  );
  expect(other.status, other.text).toBe(201);
  otherProjectId = other.body.id;
  ids = await seedDoraHistory(db, { main: fixture.project.id, other: otherProjectId });
});

describe('GET /api/projects/{id}/dora', () => {
  it("computes the project's five metrics from its production records", async () => {
    const response = await as(fixture.owner).get<DoraReport>(
      `/api/projects/${fixture.project.id}/dora?${WINDOW}`,
    );
    expect(response.status, response.text).toBe(200);
    const report = response.body;
    const { a1, a2, a3, a4 } = ids;
    expect(report.deployment_frequency).toEqual({
      deployments: 4,
      per_day: 2,
      per_week: 14,
      band: 'elite',
      deployment_ids: [a1, a2, a3, a4],
    });
    expect(report.change_lead_time).toEqual({
      median_seconds: 7200,
      band: 'elite',
      deployment_ids: [a1, a2, a4],
    });
    expect(report.change_fail_rate).toEqual({
      rate: 0.5,
      failed: 2,
      deployments: 4,
      band: 'low',
      deployment_ids: [a2, a3],
    });
    expect(report.failed_deployment_recovery_time).toEqual({
      median_seconds: 2100,
      band: 'elite',
      deployment_ids: [a2, a3],
      unrecovered_ids: [],
    });
    expect(report.deployment_rework_rate).toEqual({
      rate: 0.25,
      rework: 1,
      deployments: 4,
      band: null,
      deployment_ids: [a4],
    });
    // The drill-down names each deployment's commit and what happened to it.
    expect(report.deployments[0]).toMatchObject({
      id: a1,
      commit_message: 'Add cart',
      committed_at: new Date(DORA_T0).toISOString(),
      live_at: new Date(DORA_T0 + 2 * 3_600_000).toISOString(),
      lead_time_seconds: 7200,
      failure: null,
    });
    expect(report.deployments[2]!.failure).toMatchObject({
      kind: 'rolled_back',
      recovery_seconds: 600,
    });
    // Day one: a1, a2, a3; day two: a4, live at 24 h.
    expect(report.series.map((point) => point.deployments)).toEqual([3, 1]);
  });

  it('takes the named windows: the seeded history is long past', async () => {
    for (const window of ['7d', '30d', '90d']) {
      const response = await as(fixture.owner).get<DoraReport>(
        `/api/projects/${fixture.project.id}/dora?window=${window}`,
      );
      expect(response.status, response.text).toBe(200);
      expect(response.body.window.days).toBe(Number.parseInt(window, 10));
      expect(response.body.deployment_frequency.deployments).toBe(0);
    }
  });

  it('answers 400 to a window it cannot use', async () => {
    const path = `/api/projects/${fixture.project.id}/dora`;
    const from = new Date(DORA_T0).toISOString();
    const later = new Date(DORA_T0 + DAY).toISOString();
    const cases: [string, string][] = [
      ['window=14d', 'validation_failed'],
      [`from=${from}`, 'bad_request'],
      [`from=${later}&to=${from}`, 'bad_request'],
      [`window=7d&from=${from}&to=${later}`, 'bad_request'],
      [`from=${from}&to=${new Date(DORA_T0 + 400 * DAY).toISOString()}`, 'bad_request'],
      ['from=yesterday&to=today', 'validation_failed'],
    ];
    for (const [query, code] of cases) {
      const response = await as(fixture.owner).get<ErrorEnvelope>(`${path}?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body.error.code, query).toBe(code);
    }
  });

  it('is read like the project: a viewer may, a stranger gets 404, no session 401', async () => {
    const viewer = await newUser('dora-viewer');
    await addMember(db, fixture.workspace.id, viewer.email, 'viewer');
    const path = `/api/projects/${fixture.project.id}/dora?${WINDOW}`;
    expect((await as(viewer).get(path)).status).toBe(200);
    const stranger = await projectFixture();
    const hidden = await as(stranger.owner).get<ErrorEnvelope>(path);
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.code).toBe('not_found');
    expect((await anonymous.get(path)).status).toBe(401);
  });
});

describe('GET /api/workspaces/{id}/dora', () => {
  it("takes every project's production deployments together", async () => {
    const response = await as(fixture.owner).get<DoraReport>(
      `/api/workspaces/${fixture.workspace.id}/dora?${WINDOW}`,
    );
    expect(response.status, response.text).toBe(200);
    const report = response.body;
    expect(report.deployment_frequency.deployments).toBe(5);
    expect(report.deployment_frequency.deployment_ids).toContain(ids.b1);
    expect(report.change_lead_time.median_seconds).toBe(7200);
    expect(report.change_fail_rate.rate).toBe(0.4);
    expect(report.deployment_rework_rate.rate).toBe(0.2);
    expect(new Set(report.deployments.map((d) => d.project_id))).toEqual(
      new Set([fixture.project.id, otherProjectId]),
    );
  });

  it("refuses another tenant's workspace and a bad window", async () => {
    const stranger = await projectFixture();
    const path = `/api/workspaces/${fixture.workspace.id}/dora`;
    expect((await as(stranger.owner).get(`${path}?${WINDOW}`)).status).toBe(404);
    expect((await as(fixture.owner).get(`${path}?window=1y`)).status).toBe(400);
  });
});
