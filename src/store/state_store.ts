/**
 * state.db: the application state machine on SQLite. Every batch of log entries applies inside
 * one transaction that also writes `applied_index`, so a restart replays only the log tail after
 * it. Commands carry a client request id; an id seen before (a retried forward) applies as a
 * no-op, so a write is never applied twice. Jobs are also cached in memory (the scheduler and
 * list queries read them all); the cache changes only after the transaction commits, and is
 * reloaded when a snapshot replaces the whole file.
 */
import { closeSync, copyFileSync, fsyncSync, openSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { assert, limits, TockError } from "../lib/mod.ts";
import { type Db, isDiskFull } from "../runtime/mod.ts";
import { SqliteAclStore } from "./acl_tables.ts";
import {
  apply,
  type ApplyResult,
  type Command,
  type Execution,
  type Job,
  type StateStore,
} from "../state/mod.ts";

const schema = `
create table if not exists meta (key text primary key, value integer not null) strict;
create table if not exists jobs (name text primary key, body text not null) strict;
create table if not exists executions (
  job_name text not null,
  id text not null,
  grp integer not null,
  attempt integer not null,
  status text not null,
  body text not null,
  primary key (job_name, id)
) strict;
create index if not exists executions_by_time on executions (job_name, grp, attempt);
create index if not exists executions_by_status on executions (status) where status = 'running';
create index if not exists executions_by_slot on executions (grp);
create table if not exists requests (rid text primary key, idx integer not null) strict;
create index if not exists requests_by_idx on requests (idx);
`;

/** Old request ids are deleted at every index that is a multiple of this (one delete per 1024). */
const requestIdsCutEvery = 1024;

/** Executions by slot since an instant: what the dashboard's "last hour" figures count. */
export interface ExecutionActivity {
  /** Executions whose slot is at or after `sinceMs`, by status. */
  byStatus: Record<string, number>;
  /** Launched ones (any status but missed) whose slot is at or after `recentSinceMs`. */
  recent: number;
  /** Slot-to-start lateness (ms) percentiles over started ones; null when none started. */
  latenessP50Ms: number | null;
  latenessP99Ms: number | null;
}

/** One log entry for the state machine: a command (with its request id) or a Raft no-op. */
export interface LogItem {
  /** null for Raft's own entries (no-op, configuration): they only advance applied_index. */
  readonly cmd: Command | null;
  readonly rid?: string | undefined;
}

/** What one applied entry did, for the proposers waiting on it. */
export interface AppliedItem {
  readonly index: number;
  readonly rid: string | undefined;
  readonly cmd: Command | null;
  /** Undefined for no-op entries; `{ok: true}` without payload for a deduplicated retry. */
  readonly result: ApplyResult | undefined;
  readonly duplicate: boolean;
}

/** Where state.db lives and how to open it again (to install a snapshot over it). */
export interface StateFile {
  readonly path: string;
  open(path: string): Db;
}

export class SqliteStateStore implements StateStore {
  #db: Db;
  readonly #file: StateFile | undefined;
  #jobs = new Map<string, Job>();
  /** Job writes of the open transaction; null marks a delete. Merged into #jobs on commit. */
  #pending: Map<string, Job | null> | null = null;
  /** Job names in code-unit order, rebuilt on demand after a job is created or deleted. */
  #sortedNames: string[] | null = null;
  /** The jobs in that order, rebuilt on demand after any job write (quiet lists cost nothing). */
  #byName: Job[] | null = null;
  #appliedIndex: number;
  #listeners: Array<(cmd: Command, result: ApplyResult) => void> = [];
  #batchListeners: Array<(items: readonly AppliedItem[]) => void> = [];
  #reloadListeners: Array<() => void> = [];
  /** ACL tokens, policies and audit log (same database, same apply transaction). */
  #acl!: SqliteAclStore;

  /** `file` enables installing snapshots; without it (":memory:" tests) install() refuses. */
  constructor(db: Db, file?: StateFile) {
    this.#db = db;
    this.#file = file;
    this.#appliedIndex = 0;
    this.#load();
  }

  /** ACL tokens, policies and audit log (same database, same apply transaction). */
  get acl(): SqliteAclStore {
    return this.#acl;
  }

  #load(): void {
    const db = this.#db;
    db.exec(schema);
    this.#acl = new SqliteAclStore(db);
    const row = db.prepare("select value from meta where key = 'applied_index'").get();
    this.#appliedIndex = row ? Number(row["value"]) : 0;
    this.#jobs = new Map();
    for (const r of db.prepare("select body from jobs").all()) {
      const job = JSON.parse(r["body"] as string) as Job;
      this.#jobs.set(job.name, job);
    }
  }

  /** Index of the last applied command; commands at or below it are already in the state. */
  get appliedIndex(): number {
    return this.#appliedIndex;
  }

  /** Applies `cmd` as log entry `index` atomically with the applied index. */
  applyAt(index: number, cmd: Command): ApplyResult {
    return this.applyBatch(index, [cmd])[0] as ApplyResult;
  }

  /**
   * Applies commands as consecutive log entries from `firstIndex` in ONE transaction (one fsync
   * for the batch: group commit). A refused command (a TockError result) is still applied as
   * a no-op entry; a thrown error (a broken invariant) rolls the whole batch back.
   */
  applyBatch(firstIndex: number, cmds: Command[]): ApplyResult[] {
    return this.applyLog(firstIndex, cmds.map((cmd) => ({ cmd }))).map((r) =>
      r.result as ApplyResult
    );
  }

  /**
   * Applies log entries from `firstIndex` in one transaction: commands (deduplicated by request
   * id) and Raft's own entries, which only advance applied_index.
   */
  applyLog(firstIndex: number, items: readonly LogItem[]): AppliedItem[] {
    assert(
      firstIndex === this.#appliedIndex + 1,
      `apply out of order: index ${firstIndex} after ${this.#appliedIndex}`,
    );
    const last = firstIndex + items.length - 1;
    this.#pending = new Map();
    let out: AppliedItem[];
    try {
      out = this.#db.tx(() => {
        const res = items.map((it, i): AppliedItem => {
          const index = firstIndex + i;
          // Request ids are kept for a window of entries (a retry comes within seconds). The
          // cut happens at fixed indexes, before that entry's own lookup, so every replica's
          // table at index i is the same whatever batches its entries arrived in.
          if (index % requestIdsCutEvery === 0 && index - limits.requestIdsKeptEntries > 0) {
            this.#db.prepare("delete from requests where idx < ?").run(
              index - limits.requestIdsKeptEntries,
            );
          }
          if (it.cmd === null) {
            return { index, rid: it.rid, cmd: null, result: undefined, duplicate: false };
          }
          if (it.rid !== undefined) {
            const seen = this.#db.prepare("select idx from requests where rid = ?").get(it.rid);
            if (seen) {
              return { index, rid: it.rid, cmd: it.cmd, result: { ok: true }, duplicate: true };
            }
            this.#db.prepare("insert into requests (rid, idx) values (?, ?)").run(it.rid, index);
          }
          return {
            index,
            rid: it.rid,
            cmd: it.cmd,
            result: apply(this, it.cmd),
            duplicate: false,
          };
        });
        this.#db
          .prepare("insert or replace into meta (key, value) values ('applied_index', ?)")
          .run(last);
        return res;
      });
    } catch (e) {
      this.#pending = null;
      if (isDiskFull(e)) {
        throw new TockError(
          "storage_full",
          "disk full: state.db cannot grow, so the command was not applied (nothing was written); free space in the data dir and retry",
        );
      }
      throw e;
    }
    if (this.#pending.size > 0) this.#byName = null;
    for (const [name, job] of this.#pending) {
      if ((job === null) === this.#jobs.has(name)) this.#sortedNames = null; // created or deleted
      if (job === null) this.#jobs.delete(name);
      else this.#jobs.set(name, job);
    }
    this.#pending = null;
    this.#appliedIndex = last;
    for (const it of out) {
      if (it.cmd === null || it.duplicate || it.result === undefined) continue;
      for (const l of this.#listeners) l(it.cmd, it.result);
    }
    for (const l of this.#batchListeners) l(out);
    return out;
  }

  /** Calls `listener` with every applied batch (after commit), no-ops and duplicates included. */
  onAppliedBatch(listener: (items: readonly AppliedItem[]) => void): void {
    this.#batchListeners.push(listener);
  }

  /** Was a command with this request id applied (within the dedupe window)? */
  hasRequest(rid: string): boolean {
    return this.#db.prepare("select 1 as x from requests where rid = ?").get(rid) !== undefined;
  }

  /** Calls `listener` after a snapshot replaced the whole state (caches are already reloaded). */
  onReloaded(listener: () => void): void {
    this.#reloadListeners.push(listener);
  }

  /** Writes a consistent copy of the whole state (at appliedIndex) to `path` (must not exist). */
  snapshotTo(path: string): void {
    this.#db.exec(`vacuum into '${path.replaceAll("'", "''")}'`);
  }

  /**
   * Replaces state.db by a snapshot file: copied next to it, fsynced, renamed over it (atomic),
   * then reopened with caches reloaded. The snapshot file itself is left in place (a follower
   * that becomes leader may send it on).
   */
  install(snapshotPath: string): void {
    const f = this.#file;
    assert(f !== undefined, "install() on a state store opened without a file");
    const tmp = `${f.path}.installing`;
    copyFileSync(snapshotPath, tmp);
    const fd = openSync(tmp, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.#db.close();
    // The old file's WAL must not be replayed into the new one.
    rmSync(`${f.path}-wal`, { force: true });
    rmSync(`${f.path}-shm`, { force: true });
    renameSync(tmp, f.path);
    // The rename survives a power cut only once the directory entry is on disk.
    const dir = openSync(dirname(f.path), "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    this.#db = f.open(f.path);
    this.#load();
    for (const l of this.#reloadListeners) l();
  }

  /** Calls `listener` after each command is applied and committed (on every replica). */
  onApplied(listener: (cmd: Command, result: ApplyResult) => void): void {
    this.#listeners.push(listener);
  }

  /** Read-only view of one job (do not mutate). */
  peekJob(name: string): Job | undefined {
    return this.#jobs.get(name);
  }

  /** Read-only view of every job, unordered (do not mutate). */
  jobsView(): Iterable<Job> {
    return this.#jobs.values();
  }

  /**
   * Every job in name order (read-only: do not mutate the array or the jobs). The order changes
   * only when a job is created or deleted and the array only when a job is written, so both are
   * kept and a 100k-job list by name needs no sort, and no copy while nothing changed.
   */
  jobsByName(): readonly Job[] {
    if (this.#byName === null) {
      if (this.#sortedNames === null) this.#sortedNames = [...this.#jobs.keys()].sort();
      this.#byName = this.#sortedNames.map((n) => this.#jobs.get(n) as Job);
    }
    return this.#byName;
  }

  get jobCount(): number {
    return this.#jobs.size;
  }

  // ---- StateStore port (used by apply inside applyAt) ----

  getJob(name: string): Job | undefined {
    const p = this.#pending?.get(name);
    if (p === null) return undefined;
    const j = p ?? this.#jobs.get(name);
    return j && structuredClone(j);
  }

  putJob(job: Job): void {
    assert(this.#pending !== null, "putJob outside applyAt");
    const copy = structuredClone(job);
    this.#db.prepare("insert or replace into jobs (name, body) values (?, ?)").run(
      job.name,
      JSON.stringify(copy),
    );
    this.#pending.set(job.name, copy);
  }

  deleteJob(name: string): void {
    assert(this.#pending !== null, "deleteJob outside applyAt");
    this.#db.prepare("delete from jobs where name = ?").run(name);
    this.#pending.set(name, null);
  }

  countJobs(): number {
    let n = this.#jobs.size;
    for (const [name, j] of this.#pending ?? []) {
      if (j === null && this.#jobs.has(name)) n--;
      else if (j !== null && !this.#jobs.has(name)) n++;
    }
    return n;
  }

  getExecution(job: string, id: string): Execution | undefined {
    const r = this.#db.prepare("select body from executions where job_name = ? and id = ?").get(
      job,
      id,
    );
    return r ? (JSON.parse(r["body"] as string) as Execution) : undefined;
  }

  putExecution(e: Execution): void {
    this.#db
      .prepare(
        "insert or replace into executions (job_name, id, grp, attempt, status, body) values (?, ?, ?, ?, ?, ?)",
      )
      .run(e.job_name, e.id, e.group, e.attempt, e.status, JSON.stringify(e));
  }

  deleteExecutions(job: string): void {
    this.#db.prepare("delete from executions where job_name = ?").run(job);
  }

  deleteFinishedExecutions(job: string): void {
    this.#db.prepare("delete from executions where job_name = ? and status != 'running'").run(job);
  }

  executionsOf(job: string): Execution[] {
    return this.#db
      .prepare("select body from executions where job_name = ? order by grp, attempt")
      .all(job)
      .map((r) => JSON.parse(r["body"] as string) as Execution);
  }

  trimExecutions(job: string, keep: number): void {
    // Find the newest finished execution beyond `keep` through the index, then delete it and
    // older finished ones; running ones are skipped (their runner still holds them).
    const cut = this.#db
      .prepare(
        "select grp, attempt from executions where job_name = ? and status != 'running' order by grp desc, attempt desc limit 1 offset ?",
      )
      .get(job, keep);
    if (!cut) return;
    const grp = cut["grp"] as number, attempt = cut["attempt"] as number;
    this.#db
      .prepare(
        "delete from executions where job_name = ? and status != 'running' and (grp < ? or (grp = ? and attempt <= ?))",
      )
      .run(job, grp, grp, attempt);
  }

  /** Executions with status running, of one job or across all jobs (busy, leases, overlap). */
  runningExecutions(job?: string): Execution[] {
    const rows = job === undefined
      ? this.#db.prepare("select body from executions where status = 'running' order by grp").all()
      : this.#db
        .prepare(
          "select body from executions where status = 'running' and job_name = ? order by grp",
        )
        .all(job);
    return rows.map((r) => JSON.parse(r["body"] as string) as Execution);
  }

  /** Counts and lateness of executions by slot (indexed by executions_by_slot). */
  activitySince(sinceMs: number, recentSinceMs: number): ExecutionActivity {
    const byStatus: Record<string, number> = {};
    for (
      const r of this.#db
        .prepare("select status, count(*) as n from executions where grp >= ? group by status")
        .all(sinceMs)
    ) byStatus[r["status"] as string] = Number(r["n"]);
    const recent = this.#db.prepare(
      "select count(*) as n from executions where grp >= ? and status != 'missed'",
    ).get(
      recentSinceMs,
    );
    const late = "json_extract(body, '$.started_at') - grp";
    const started = this.#db
      .prepare(
        `select count(*) as n from executions where grp >= ? and json_extract(body, '$.started_at') is not null`,
      )
      .get(sinceMs);
    const n = Number(started?.["n"] ?? 0);
    const percentile = (p: number): number | null => {
      if (n === 0) return null;
      const r = this.#db
        .prepare(
          `select ${late} as late from executions where grp >= ? and json_extract(body, '$.started_at') is not null order by late limit 1 offset ?`,
        )
        .get(sinceMs, Math.min(n - 1, Math.floor(n * p)));
      return r ? Number(r["late"]) : null;
    };
    return {
      byStatus,
      recent: Number(recent?.["n"] ?? 0),
      latenessP50Ms: percentile(0.5),
      latenessP99Ms: percentile(0.99),
    };
  }

  close(): void {
    this.#db.close();
  }
}
