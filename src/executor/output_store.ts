/**
 * output.db: the full output of the executions this node ran (never replicated; DESIGN §1.5).
 * Output arrives in chunks while a run is live, can be read whole or from a byte offset (live
 * tailing), and is pruned by count per job, by age and by total bytes.
 *
 * Written against the small SqlDb interface so that the runtime adapter (bun:sqlite or
 * node:sqlite) is chosen by the caller. Single writer: one node process owns its output.db.
 *
 * Small writes of a live execution are gathered in memory (at most outputChunkBytesMin bytes per
 * execution) and written as one row when that fills, on finish() and on flush(); reads include
 * them. A crash loses at most that buffer of a run that was live, which is then `lost` anyway.
 */
import { assert, limits } from "../lib/mod.ts";

/** The part of a SQLite binding this store needs (bun:sqlite and node:sqlite both fit). */
export interface SqlDb {
  exec(sql: string): void;
  prepare(sql: string): {
    run(...params: unknown[]): { changes: number };
    get(...params: unknown[]): Record<string, unknown> | undefined;
    all(...params: unknown[]): Record<string, unknown>[];
  };
  close(): void;
}

/** Retention bounds; each defaults to its limits.ts value and may only be lowered. */
export interface OutputRetention {
  /** Executions kept per job; the oldest (by start) go first. */
  executionsPerJobMax: number;
  /** Milliseconds after its start an execution's output is deleted by prune(). */
  ageMsMax: number;
  /** Bytes kept across all jobs; prune() deletes the oldest finished executions beyond it. */
  totalBytesMax: number;
  /** Bytes kept per execution; later output is dropped and the execution marked truncated. */
  executionBytesMax: number;
}

/** What the store knows about one execution's output. */
export interface StoredOutput {
  executionId: string;
  jobName: string;
  startedMs: number;
  finishedMs: number | null;
  bytes: number;
  truncated: boolean;
}

// Output is not replicated state: losing the last moments of it in a power cut is acceptable,
// an fsync per output chunk is not (WAL + synchronous=NORMAL syncs at checkpoints only).
const schema = `
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS output_executions (
  execution_id TEXT PRIMARY KEY,
  job_name TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  finished_ms INTEGER,
  bytes INTEGER NOT NULL DEFAULT 0,
  truncated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS output_executions_job ON output_executions (job_name, started_ms);
CREATE INDEX IF NOT EXISTS output_executions_started ON output_executions (started_ms);
CREATE TABLE IF NOT EXISTS output_chunks (
  execution_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  start_byte INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (execution_id, seq)
);
`;

function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  assert(false, `output chunk is not a blob: ${typeof v}`);
}

function rowToStored(r: Record<string, unknown>): StoredOutput {
  return {
    executionId: String(r.execution_id),
    jobName: String(r.job_name),
    startedMs: Number(r.started_ms),
    finishedMs: r.finished_ms === null || r.finished_ms === undefined
      ? null
      : Number(r.finished_ms),
    bytes: Number(r.bytes),
    truncated: Number(r.truncated) === 1,
  };
}

/** A live execution's state kept in memory while it runs. */
interface Live {
  bytes: number; // stored + pending
  truncated: boolean;
  nextSeq: number;
  pending: Uint8Array[];
  pendingBytes: number;
}

/** The local execution output store. */
export class OutputStore {
  #db: SqlDb;
  #retention: OutputRetention;
  #totalBytes: number;
  #live = new Map<string, Live>();

  constructor(db: SqlDb, retention: Partial<OutputRetention> = {}) {
    const r: OutputRetention = {
      executionsPerJobMax: retention.executionsPerJobMax ?? limits.executionsPerJobMax,
      ageMsMax: retention.ageMsMax ?? limits.outputStoreAgeMsMax,
      totalBytesMax: retention.totalBytesMax ?? limits.outputStoreBytesMax,
      executionBytesMax: retention.executionBytesMax ?? limits.outputBytesMax,
    };
    assert(
      r.executionsPerJobMax >= 1 && r.executionsPerJobMax <= limits.executionsPerJobMax,
      "executionsPerJobMax out of range",
    );
    assert(r.ageMsMax > 0 && r.ageMsMax <= limits.outputStoreAgeMsMax, "ageMsMax out of range");
    assert(
      r.totalBytesMax > 0 && r.totalBytesMax <= limits.outputStoreBytesMax,
      "totalBytesMax out of range",
    );
    assert(
      r.executionBytesMax > 0 && r.executionBytesMax <= limits.outputBytesMax,
      "executionBytesMax out of range",
    );
    this.#db = db;
    this.#retention = r;
    db.exec(schema);
    const row = db.prepare("SELECT COALESCE(SUM(bytes), 0) AS total FROM output_executions").get();
    this.#totalBytes = Number(row?.total ?? 0);
  }

  /** Bytes stored across all executions. */
  get totalBytes(): number {
    return this.#totalBytes;
  }

  #tx<T>(fn: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const out = fn();
      this.#db.exec("COMMIT");
      return out;
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
  }

  #deleteExecution(executionId: string): void {
    const row = this.#db.prepare("SELECT bytes FROM output_executions WHERE execution_id = ?").get(
      executionId,
    );
    if (row === undefined) return;
    this.#db.prepare("DELETE FROM output_chunks WHERE execution_id = ?").run(executionId);
    this.#db.prepare("DELETE FROM output_executions WHERE execution_id = ?").run(executionId);
    this.#totalBytes -= Number(row.bytes) + (this.#live.get(executionId)?.pendingBytes ?? 0);
    this.#live.delete(executionId);
  }

  /**
   * Records the start of an execution and keeps the job within executionsPerJobMax by deleting
   * its oldest finished executions. Returns how many were deleted. Starting an id twice is a bug.
   */
  begin(executionId: string, jobName: string, startedMs: number): number {
    return this.#tx(() => {
      const existing = this.#db.prepare("SELECT 1 FROM output_executions WHERE execution_id = ?")
        .get(executionId);
      assert(existing === undefined, `execution ${executionId} already has output`);
      this.#db.prepare(
        "INSERT INTO output_executions (execution_id, job_name, started_ms) VALUES (?, ?, ?)",
      ).run(executionId, jobName, startedMs);
      // Live executions are never deleted under a writer: they count, but only finished ones go.
      const extra = this.#db.prepare(
        `SELECT execution_id, finished_ms FROM output_executions WHERE job_name = ?
         ORDER BY started_ms DESC, execution_id DESC LIMIT -1 OFFSET ?`,
      ).all(jobName, this.#retention.executionsPerJobMax).filter((r) => r.finished_ms !== null);
      for (const r of extra) this.#deleteExecution(String(r.execution_id));
      return extra.length;
    });
  }

  /** The live state of an unfinished execution, loaded from the table after a restart. */
  #liveOf(executionId: string): Live {
    let live = this.#live.get(executionId);
    if (live !== undefined) return live;
    const e = this.#db.prepare(
      `SELECT bytes, truncated, finished_ms,
         (SELECT COALESCE(MAX(seq), -1) FROM output_chunks c WHERE c.execution_id = e.execution_id) AS last_seq
       FROM output_executions e WHERE execution_id = ?`,
    ).get(executionId);
    assert(e !== undefined, `append to unknown execution ${executionId}`);
    assert(e.finished_ms === null, `append to finished execution ${executionId}`);
    live = {
      bytes: Number(e.bytes),
      truncated: Number(e.truncated) === 1,
      nextSeq: Number(e.last_seq) + 1,
      pending: [],
      pendingBytes: 0,
    };
    this.#live.set(executionId, live);
    return live;
  }

  #flushLive(executionId: string, live: Live): void {
    if (live.pendingBytes > 0) {
      const data = new Uint8Array(live.pendingBytes);
      let at = 0;
      for (const part of live.pending) {
        data.set(part, at);
        at += part.length;
      }
      this.#db.prepare(
        "INSERT INTO output_chunks (execution_id, seq, start_byte, data) VALUES (?, ?, ?, ?)",
      ).run(executionId, live.nextSeq, live.bytes - live.pendingBytes, data);
      live.nextSeq++;
      live.pending = [];
      live.pendingBytes = 0;
    }
    this.#db.prepare(
      "UPDATE output_executions SET bytes = ?, truncated = ? WHERE execution_id = ?",
    ).run(live.bytes, live.truncated ? 1 : 0, executionId);
  }

  /**
   * Appends a chunk to a live execution. Bytes beyond executionBytesMax are dropped and the
   * execution is marked truncated. Returns the bytes kept. Unknown or finished executions are a bug.
   */
  append(executionId: string, chunk: Uint8Array): number {
    const live = this.#liveOf(executionId);
    if (chunk.length === 0) return 0;
    const room = this.#retention.executionBytesMax - live.bytes;
    const kept = chunk.length <= room ? chunk : chunk.subarray(0, Math.max(0, room));
    if (kept.length < chunk.length) live.truncated = true;
    if (kept.length > 0) {
      live.pending.push(kept.slice());
      live.pendingBytes += kept.length;
      live.bytes += kept.length;
      this.#totalBytes += kept.length;
    }
    if (live.pendingBytes >= limits.outputChunkBytesMin || kept.length < chunk.length) {
      this.#tx(() => this.#flushLive(executionId, live));
    }
    return kept.length;
  }

  /** Writes buffered output of one live execution (or all) to the table. */
  flush(executionId?: string): void {
    this.#tx(() => {
      for (const [id, live] of this.#live) {
        if (executionId === undefined || id === executionId) this.#flushLive(id, live);
      }
    });
  }

  /** Marks an execution finished (its output is complete and may now be pruned by bytes). */
  finish(executionId: string, finishedMs: number, truncated = false): void {
    this.#tx(() => {
      const live = this.#liveOf(executionId);
      if (truncated) live.truncated = true;
      this.#flushLive(executionId, live);
      this.#db.prepare("UPDATE output_executions SET finished_ms = ? WHERE execution_id = ?").run(
        finishedMs,
        executionId,
      );
      this.#live.delete(executionId);
    });
  }

  /** One execution's metadata, or undefined. */
  get(executionId: string): StoredOutput | undefined {
    const r = this.#db.prepare("SELECT * FROM output_executions WHERE execution_id = ?").get(
      executionId,
    );
    if (r === undefined) return undefined;
    const stored = rowToStored(r);
    const live = this.#live.get(executionId);
    return live === undefined
      ? stored
      : { ...stored, bytes: live.bytes, truncated: live.truncated };
  }

  /** A job's executions, newest first. */
  list(jobName: string): StoredOutput[] {
    return this.#db.prepare(
      "SELECT * FROM output_executions WHERE job_name = ? ORDER BY started_ms DESC, execution_id DESC",
    ).all(jobName).map(rowToStored);
  }

  /** The output from byte `offset` on (live tailing: pass the bytes already seen). */
  read(executionId: string, offset = 0): Uint8Array | undefined {
    const meta = this.get(executionId);
    if (meta === undefined) return undefined;
    const rows = this.#db.prepare(
      "SELECT start_byte, data FROM output_chunks WHERE execution_id = ? AND start_byte + length(data) > ? ORDER BY seq",
    ).all(executionId, offset);
    const parts: Array<[number, Uint8Array]> = rows.map((
      r,
    ) => [Number(r.start_byte), toBytes(r.data)]);
    const live = this.#live.get(executionId);
    if (live !== undefined) {
      let start = live.bytes - live.pendingBytes;
      for (const p of live.pending) {
        parts.push([start, p]);
        start += p.length;
      }
    }
    const out = new Uint8Array(Math.max(0, meta.bytes - offset));
    for (const [start, data] of parts) {
      if (start + data.length <= offset) continue;
      const from = Math.max(0, offset - start);
      out.set(data.subarray(from), start + from - offset);
    }
    return out;
  }

  /** Deletes one execution's output; returns whether it existed. */
  delete(executionId: string): boolean {
    return this.#tx(() => {
      const had = this.get(executionId) !== undefined;
      this.#deleteExecution(executionId);
      return had;
    });
  }

  /**
   * Deletes the output of a job (the job was deleted), except output this process is still
   * writing: its writer is a run of a same-name job created since. Returns how many went.
   */
  deleteJob(jobName: string): number {
    return this.#tx(() => {
      const rows = this.#db.prepare("SELECT execution_id FROM output_executions WHERE job_name = ?")
        .all(jobName).filter((r) => !this.#live.has(String(r.execution_id)));
      for (const r of rows) this.#deleteExecution(String(r.execution_id));
      return rows.length;
    });
  }

  /**
   * Applies age and total-bytes retention: deletes executions started before nowMs - ageMsMax,
   * then the oldest finished executions until the total fits. Returns how many were deleted.
   */
  prune(nowMs: number): number {
    return this.#tx(() => {
      let deleted = 0;
      const old = this.#db.prepare(
        "SELECT execution_id FROM output_executions WHERE started_ms < ?",
      ).all(nowMs - this.#retention.ageMsMax);
      for (const r of old) this.#deleteExecution(String(r.execution_id));
      deleted += old.length;
      while (this.#totalBytes > this.#retention.totalBytesMax) {
        const batch = this.#db.prepare(
          `SELECT execution_id FROM output_executions WHERE finished_ms IS NOT NULL
           ORDER BY started_ms, execution_id LIMIT 64`,
        ).all();
        if (batch.length === 0) break; // only live executions left: they finish first
        for (const r of batch) {
          if (this.#totalBytes <= this.#retention.totalBytesMax) break;
          this.#deleteExecution(String(r.execution_id));
          deleted++;
        }
      }
      return deleted;
    });
  }

  /** Flushes buffered output and closes the database. */
  close(): void {
    this.flush();
    this.#db.close();
  }
}
