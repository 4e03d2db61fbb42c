import type { Db, Row, SqlValue, Statement } from "./types.ts";

/** Pragmas every Tock database opens with: WAL and a full fsync per commit (DESIGN.md §6). */
export const durablePragmas = [
  "pragma journal_mode = WAL",
  "pragma synchronous = FULL",
  "pragma foreign_keys = ON",
  "pragma busy_timeout = 5000",
];

interface RawStatement {
  run(...params: any[]): { changes: number | bigint };
  get(...params: any[]): unknown;
  all(...params: any[]): unknown[];
}

/** Wraps a driver's connection into the Db contract (statement cache, tx, undefined for no row). */
export function wrapDb(
  raw: { exec(sql: string): void; close(): void },
  prepareRaw: (sql: string) => RawStatement,
): Db {
  const cache = new Map<string, Statement>();
  let depth = 0;
  const db: Db = {
    exec: (sql) => raw.exec(sql),
    prepare(sql) {
      let s = cache.get(sql);
      if (!s) {
        const st = prepareRaw(sql);
        s = {
          run: (...p: SqlValue[]) => ({ changes: Number(st.run(...p).changes) }),
          get: (...p: SqlValue[]) => (st.get(...p) ?? undefined) as Row | undefined,
          all: (...p: SqlValue[]) => st.all(...p) as Row[],
        };
        cache.set(sql, s);
      }
      return s;
    },
    tx<T>(fn: () => T): T {
      if (depth > 0) return fn();
      raw.exec("BEGIN IMMEDIATE");
      depth++;
      try {
        const out = fn();
        raw.exec("COMMIT");
        return out;
      } catch (e) {
        raw.exec("ROLLBACK");
        throw e;
      } finally {
        depth--;
      }
    },
    close: () => {
      cache.clear();
      raw.close();
    },
  };
  for (const p of durablePragmas) db.exec(p);
  return db;
}
