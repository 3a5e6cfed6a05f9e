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

/** A statement name that stands for its SQL text: FNV-1a, 64 bits, in hex. */
function statementName(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    hash = BigInt.asUintN(64, (hash ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n);
  }
  return `sparki_${hash.toString(16)}`;
}

/**
 * A select whose SQL is built once per isolate, then run against each request's database as a
 * named prepared statement.
 *
 * Drizzle turns a query builder into SQL text at every execution, and a Worker's database is new
 * with each request (one pool per request), so drizzle's own prepared queries last one request
 * too. For the three queries of every authenticated project read that was an eighth of the
 * Worker's CPU under load (docs/benchmarks.md, (c)). `build` must take every value that changes
 * between calls as `sql.placeholder(name)`; `values` fills them.
 *
 * The statement is named after its text, so a pooler that keeps protocol-level prepared
 * statements across its clients (Neon's PgBouncer, the local stack's pool) has Postgres parse
 * and plan it once per server connection rather than at every request. Without such a pooler
 * it costs nothing more: each new connection prepares it once, as it would an unnamed one.
 */
export function preparedSelect<B extends SelectBuilder>(
  build: (db: Database) => B,
): (db: Database, values: Record<string, unknown>) => Promise<Rows<B>> {
  let template: ResultMapping & { query: Query; name: string };
  return (db, values) => {
    if (!template) {
      const builder = build(db);
      const { fields, joinsNotNullableMap } = builder.prepare('') as unknown as ResultMapping;
      const query = builder.toSQL();
      template = { query, fields, joinsNotNullableMap, name: statementName(query.sql) };
    }
    const { query, name } = template;
    const prepared = db._.session.prepareQuery(query, template.fields, name, true);
    Object.assign(prepared, { joinsNotNullableMap: template.joinsNotNullableMap });
    return prepared.execute(values) as Promise<Rows<B>>;
  };
}
