import type { Query } from 'drizzle-orm';
import type { SelectedFieldsOrdered } from 'drizzle-orm/pg-core';
import type { Database } from './client';

/** A select builder, as `db.select()…` returns it. */
interface SelectBuilder {
  toSQL(): Query;
  prepare(name: string): { execute(values: Record<string, unknown>): Promise<unknown> };
}

type Rows<B extends SelectBuilder> = Awaited<ReturnType<ReturnType<B['prepare']>['execute']>>;

/**
 * What drizzle's prepared query keeps to map result rows (set by the builder, not in its types):
 * the selected fields in order, and which joined tables can be null.
 */
interface ResultMapping {
  fields?: SelectedFieldsOrdered;
  joinsNotNullableMap?: Record<string, boolean>;
}

/**
 * A select whose SQL is built once per isolate, then run against each request's database.
 *
 * Drizzle turns a query builder into SQL text at every execution, and a Worker's database is new
 * with each request (one pool per request), so drizzle's own prepared queries last one request
 * too. For the three queries of every authenticated project read that was an eighth of the
 * Worker's CPU under load (docs/benchmarks.md, (c)). `build` must take every value that changes
 * between calls as `sql.placeholder(name)`; `values` fills them. The statement is unnamed, as
 * before: a pooler between the Worker and Postgres need not keep named statements.
 */
export function preparedSelect<B extends SelectBuilder>(
  build: (db: Database) => B,
): (db: Database, values: Record<string, unknown>) => Promise<Rows<B>> {
  let template: ResultMapping & { query: Query };
  return (db, values) => {
    if (!template) {
      const builder = build(db);
      const { fields, joinsNotNullableMap } = builder.prepare('') as unknown as ResultMapping;
      template = { query: builder.toSQL(), fields, joinsNotNullableMap };
    }
    const prepared = db._.session.prepareQuery(template.query, template.fields, undefined, true);
    Object.assign(prepared, { joinsNotNullableMap: template.joinsNotNullableMap });
    return prepared.execute(values) as Promise<Rows<B>>;
  };
}
