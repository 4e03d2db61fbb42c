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

/**
 * True for SQLite's "database or disk is full" (SQLITE_FULL, code 13) from bun:sqlite or
 * node:sqlite, whose error shapes differ.
 */
export function isDiskFull(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const x = e as Error & { code?: unknown; errno?: unknown; errcode?: unknown };
  return x.code === "SQLITE_FULL" || x.errcode === 13 || /database or disk is full/.test(x.message);
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
        // SQLite rolls the transaction back itself on some errors (SQLITE_FULL, SQLITE_IOERR):
        // a second ROLLBACK then fails with "no transaction is active" and would mask the cause.
        try {
          raw.exec("ROLLBACK");
        } catch { /* already rolled back by SQLite */ }
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

/**
 * A lock that dies with its process: a SQLite connection in exclusive locking mode holds the
 * database file's POSIX lock (fcntl) after its first write transaction until it is closed, and
 * the kernel drops that lock when the process exits, however it exits. SQLite also refuses a
 * second connection of the same process, so two holders in one process are refused too.
 */
export function sqliteFileLock(
  raw: { exec(sql: string): void; close(): void },
): import("./types.ts").FileLock | undefined {
  try {
    raw.exec("pragma busy_timeout = 0");
    raw.exec("pragma locking_mode = EXCLUSIVE");
    raw.exec("begin exclusive");
    raw.exec("create table if not exists lock (k integer primary key)");
    raw.exec("commit");
  } catch (e) {
    raw.close();
    if (e instanceof Error && /locked|busy/i.test(e.message)) return undefined;
    throw e;
  }
  return { release: () => raw.close() };
}
