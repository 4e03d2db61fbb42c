/**
 * The durable Raft log (raft.db): entries (index, term, type, payload, CRC32), the hard state
 * and the latest snapshot, in SQLite with WAL + synchronous=FULL. One Ready batch is one
 * transaction, so a crash leaves either the whole batch or none of it (SQLite's own WAL
 * checksums drop a torn final transaction). Our CRC32 per row catches corruption that SQLite
 * cannot see (bit flips in payloads): at open, a bad row above the commit index is treated as an
 * unacknowledged tail and truncated; a bad committed row or hard state refuses to start.
 */

/** The minimal SQLite surface this store needs (satisfied by bun:sqlite, node:sqlite, runtime Db). */
export interface SqlDb {
  exec(sql: string): void;
  prepare(sql: string): {
    run(...params: unknown[]): { changes: number | bigint };
    get(...params: unknown[]): Record<string, unknown> | undefined;
    all(...params: unknown[]): Record<string, unknown>[];
  };
  close(): void;
}

export type StoredEntryType = "normal" | "config" | "noop";

/** Mirrors raft's Entry (kept structural so store/ does not depend on raft/). */
export interface StoredEntry {
  readonly index: number;
  readonly term: number;
  readonly type: StoredEntryType;
  readonly data: Uint8Array;
}

export interface StoredHardState {
  readonly term: number;
  readonly vote: string;
  readonly commit: number;
}

export interface StoredSnapshot {
  readonly meta: {
    readonly index: number;
    readonly term: number;
    readonly config: { readonly voters: readonly string[]; readonly learners: readonly string[] };
  };
  readonly data: Uint8Array;
}

/** What one Ready asks to persist (a structural subset of raft's Ready). */
export interface PersistBatch {
  readonly hardState?: StoredHardState | undefined;
  readonly entries: readonly StoredEntry[];
  readonly snapshot?: StoredSnapshot | undefined;
  readonly compaction?:
    | { readonly snapshot: StoredSnapshot; readonly compactTo: number }
    | undefined;
}

/** What open() found and repaired. */
export interface OpenReport {
  /** Entries dropped from the tail because their CRC did not match (never committed). */
  readonly truncatedFrom: number | undefined;
  readonly entryCount: number;
}

export class CorruptLogError extends Error {
  override name = "CorruptLogError";
}

const typeCode: Record<StoredEntryType, number> = { normal: 0, config: 1, noop: 2 };
const codeType: StoredEntryType[] = ["normal", "config", "noop"];

const crcTable = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE) of bytes, continuing from `crc`. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    c = (crcTable[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

function headerBytes(...nums: number[]): Uint8Array {
  const b = new Uint8Array(nums.length * 8);
  const v = new DataView(b.buffer);
  nums.forEach((n, i) => v.setFloat64(i * 8, n));
  return b;
}

const enc = new TextEncoder();

/** CRC of one entry row: covers index, term, type and payload. */
export function entryCrc(e: StoredEntry): number {
  return crc32(e.data, crc32(headerBytes(e.index, e.term, typeCode[e.type])));
}

function hardStateCrc(hs: StoredHardState): number {
  return crc32(enc.encode(hs.vote), crc32(headerBytes(hs.term, hs.commit)));
}

function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v === null || v === undefined) return new Uint8Array();
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  throw new CorruptLogError(`expected a blob, got ${typeof v}`);
}

export class RaftLogStore {
  readonly #db: SqlDb;
  #compactions = 0;
  readonly report: OpenReport;

  private constructor(db: SqlDb, report: OpenReport) {
    this.#db = db;
    this.report = report;
  }

  /**
   * Prepares the schema, verifies every row and repairs a torn tail. Throws CorruptLogError when a
   * committed entry or the hard state is damaged (the node must not start: restore it from a peer).
   */
  static open(db: SqlDb): RaftLogStore {
    // auto_vacuum must be set before the first table exists to take effect.
    db.exec("pragma auto_vacuum = INCREMENTAL");
    db.exec("pragma journal_mode = WAL");
    db.exec("pragma synchronous = FULL");
    db.exec(`create table if not exists raft_entries (
      idx integer primary key, term integer not null, type integer not null,
      payload blob not null, crc integer not null) strict`);
    db.exec(`create table if not exists raft_hard_state (
      id integer primary key check (id = 1), term integer not null, vote text not null,
      commit_idx integer not null, crc integer not null) strict`);
    db.exec(`create table if not exists raft_snapshot (
      id integer primary key check (id = 1), idx integer not null, term integer not null,
      config text not null, data blob not null, crc integer not null) strict`);
    const store = new RaftLogStore(db, { truncatedFrom: undefined, entryCount: 0 });
    const report = store.#verify();
    return new RaftLogStore(db, report);
  }

  #verify(): OpenReport {
    const hs = this.#readHardState();
    const snap = this.#readSnapshot();
    const rows = this.#db.prepare(
      "select idx, term, type, payload, crc from raft_entries order by idx",
    )
      .all();
    let expect: number | undefined;
    let badAt: number | undefined;
    let reason = "";
    for (const r of rows) {
      const e = rowToEntry(r);
      if (expect !== undefined && e.index !== expect) {
        badAt = expect;
        reason = `gap: entry ${e.index} follows ${expect - 1}`;
        break;
      }
      if (entryCrc(e) !== Number(r.crc)) {
        badAt = e.index;
        reason = `CRC mismatch in entry ${e.index} (term ${e.term})`;
        break;
      }
      expect = e.index + 1;
    }
    if (badAt === undefined) return { truncatedFrom: undefined, entryCount: rows.length };
    const committed = Math.max(hs?.commit ?? 0, snap?.meta.index ?? 0);
    if (badAt <= committed) {
      throw new CorruptLogError(
        `raft.db is corrupt: ${reason}, at or below the commit index ${committed}; ` +
          `refusing to start. Remove this node's data and re-add it so it is restored from a peer.`,
      );
    }
    this.#db.exec("BEGIN IMMEDIATE");
    this.#db.prepare("delete from raft_entries where idx >= ?").run(badAt);
    this.#db.exec("COMMIT");
    return { truncatedFrom: badAt, entryCount: rows.length };
  }

  #readHardState(): StoredHardState | undefined {
    const r = this.#db.prepare(
      "select term, vote, commit_idx, crc from raft_hard_state where id = 1",
    )
      .get();
    if (r === undefined) return undefined;
    const hs = { term: Number(r.term), vote: String(r.vote), commit: Number(r.commit_idx) };
    if (hardStateCrc(hs) !== Number(r.crc)) {
      throw new CorruptLogError(
        `raft.db is corrupt: hard state CRC mismatch (term ${hs.term}, vote "${hs.vote}"); ` +
          `refusing to start, a lost vote could elect two leaders.`,
      );
    }
    return hs;
  }

  #readSnapshot(): StoredSnapshot | undefined {
    const r = this.#db.prepare(
      "select idx, term, config, data, crc from raft_snapshot where id = 1",
    )
      .get();
    if (r === undefined) return undefined;
    const data = toBytes(r.data);
    const config = JSON.parse(String(r.config)) as StoredSnapshot["meta"]["config"];
    const s: StoredSnapshot = {
      meta: { index: Number(r.idx), term: Number(r.term), config },
      data,
    };
    if (snapshotCrc(s) !== Number(r.crc)) {
      throw new CorruptLogError(`raft.db is corrupt: snapshot at ${s.meta.index} fails its CRC`);
    }
    return s;
  }

  /** The durable state to rebuild the Raft core from. */
  load(): {
    hardState: StoredHardState;
    snapshot: StoredSnapshot | undefined;
    entries: StoredEntry[];
  } {
    const hardState = this.#readHardState() ?? { term: 0, vote: "", commit: 0 };
    const snapshot = this.#readSnapshot();
    // Trailing entries kept behind the snapshot serve followers; the core restarts after it.
    const rows = this.#db.prepare(
      "select idx, term, type, payload, crc from raft_entries where idx > ? order by idx",
    ).all(snapshot?.meta.index ?? 0);
    return { hardState, snapshot, entries: rows.map(rowToEntry) };
  }

  /** Entries in [lo, hi), for a shell that keeps only a window in memory. */
  entries(lo: number, hi: number): StoredEntry[] {
    return this.#db.prepare(
      "select idx, term, type, payload, crc from raft_entries where idx >= ? and idx < ? order by idx",
    ).all(lo, hi).map(rowToEntry);
  }

  /** Persists one Ready batch in a single fsync'd transaction. Returns when it is durable. */
  save(b: PersistBatch): void {
    const db = this.#db;
    if (b.entries.length === 0 && !b.hardState && !b.snapshot && !b.compaction) return;
    db.exec("BEGIN IMMEDIATE");
    try {
      if (b.snapshot !== undefined) {
        this.#writeSnapshot(b.snapshot);
        db.prepare("delete from raft_entries").run();
      }
      if (b.compaction !== undefined) {
        this.#writeSnapshot(b.compaction.snapshot);
        db.prepare("delete from raft_entries where idx <= ?").run(b.compaction.compactTo);
        this.#compactions++;
      }
      if (b.entries.length > 0) {
        const first = (b.entries[0] as StoredEntry).index;
        db.prepare("delete from raft_entries where idx >= ?").run(first);
        const ins = db.prepare(
          "insert into raft_entries (idx, term, type, payload, crc) values (?, ?, ?, ?, ?)",
        );
        for (const e of b.entries) ins.run(e.index, e.term, typeCode[e.type], e.data, entryCrc(e));
      }
      if (b.hardState !== undefined) {
        const hs = b.hardState;
        db.prepare(
          "insert or replace into raft_hard_state (id, term, vote, commit_idx, crc) values (1, ?, ?, ?, ?)",
        ).run(hs.term, hs.vote, hs.commit, hardStateCrc(hs));
      }
      db.exec("COMMIT");
    } catch (e) {
      db.exec("ROLLBACK");
      throw e;
    }
    if (b.compaction !== undefined && this.#compactions % 16 === 0) {
      // Give freed pages back to the file system now and then (BoltDB never did: Consul #866).
      db.exec("pragma incremental_vacuum");
      db.exec("pragma wal_checkpoint(TRUNCATE)");
    }
  }

  #writeSnapshot(s: StoredSnapshot): void {
    this.#db.prepare(
      "insert or replace into raft_snapshot (id, idx, term, config, data, crc) values (1, ?, ?, ?, ?, ?)",
    ).run(s.meta.index, s.meta.term, JSON.stringify(s.meta.config), s.data, snapshotCrc(s));
  }

  close(): void {
    this.#db.close();
  }
}

function snapshotCrc(s: StoredSnapshot): number {
  return crc32(
    s.data,
    crc32(enc.encode(JSON.stringify(s.meta.config)), crc32(headerBytes(s.meta.index, s.meta.term))),
  );
}

function rowToEntry(r: Record<string, unknown>): StoredEntry {
  const type = codeType[Number(r.type)];
  if (type === undefined) {
    throw new CorruptLogError(`entry ${String(r.idx)} has unknown type ${String(r.type)}`);
  }
  return { index: Number(r.idx), term: Number(r.term), type, data: toBytes(r.payload) };
}
