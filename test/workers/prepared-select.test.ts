import { eq, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { preparedSelect } from '../../db/prepared-select';
import { memberships, users } from '../../db/schema';
import { createWorkspace, newUser } from './auth-helpers';
import { testDb } from './harness';

// Two handles, as two requests each get their own pool.
const first = testDb();
const second = testDb();

afterAll(async () => {
  await first.pool.end();
  await second.pool.end();
});

describe('preparedSelect', () => {
  let builds = 0;
  const userWithMembership = preparedSelect((db) => {
    builds++;
    return db
      .select({ user: users, membership: memberships, role: memberships.role })
      .from(users)
      .leftJoin(memberships, eq(memberships.userId, users.id))
      .where(eq(users.id, sql.placeholder('id')));
  });

  it('builds the query once and runs it on each handle with that call’s values', async () => {
    const member = await newUser('prepared-member');
    const workspace = await createWorkspace(member.access_token);
    const loner = await newUser('prepared-loner');
    const [memberId, lonerId] = await Promise.all(
      [member.email, loner.email].map(async (email) => {
        const [row] = await first.db.select().from(users).where(eq(users.email, email));
        return row!.id;
      }),
    );

    const [withRole] = await userWithMembership(first.db, { id: memberId });
    expect(withRole!.user.email).toBe(member.email);
    expect(withRole!.user.createdAt).toBeInstanceOf(Date);
    expect(withRole!.membership).toMatchObject({ workspaceId: workspace.id, role: 'owner' });
    expect(withRole!.role).toBe('owner');

    // A table the left join found nothing in is null, not an object of nulls.
    const [alone] = await userWithMembership(second.db, { id: lonerId });
    expect(alone!.user.email).toBe(loner.email);
    expect(alone!.membership).toBeNull();
    expect(alone!.role).toBeNull();

    expect(await userWithMembership(second.db, { id: crypto.randomUUID() })).toEqual([]);
    expect(builds).toBe(1);
  });

  it('runs as a named statement, which a pooler can keep for the next request', async () => {
    const statements = await first.db.transaction(async (tx) => {
      await userWithMembership(tx as unknown as typeof first.db, { id: crypto.randomUUID() });
      return tx.execute<{ statement: string }>(
        sql`select statement from pg_prepared_statements where statement like '%"memberships"%'`,
      );
    });
    expect(statements.rows).toHaveLength(1);
  });

  it('refuses a call that leaves a placeholder without a value', async () => {
    await expect(userWithMembership(first.db, {})).rejects.toThrow(/placeholder "id"/);
  });
});
