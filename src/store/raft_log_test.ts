// Proves the durable Raft log: a batch round-trips (entries, hard state, snapshot, compaction,
// overwrite of a conflicting suffix), the pragmas are WAL + synchronous=FULL, a CRC-damaged
// uncommitted tail is truncated at open, and damage to a committed entry or the hard state
// refuses to start with a clear message. Uses node:sqlite (works on Bun and Deno).
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { CorruptLogError, crc32, RaftLogStore, type SqlDb, type StoredEntry } from "./raft_log.ts";

const enc = new TextEncoder();
const dirs: string[] = [];
function dbPath(): string {
  const d = mkdtempSync(join(tmpdir(), "raftlog-"));
  dirs.push(d);
  return join(d, "raft.db");
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const open = (p: string) => new DatabaseSync(p) as unknown as SqlDb;
const e = (index: number, term: number, text: string): StoredEntry => ({
  index,
  term,
  type: "normal",
  data: enc.encode(text),
});
const config = { voters: ["n1", "n2", "n3"], learners: [] };

describe("RaftLogStore", () => {
  test("crc32 matches the IEEE check value", () => {
    expect(crc32(enc.encode("123456789"))).toBe(0xcbf43926);
  });

  test("opens with WAL and synchronous=FULL", () => {
    const db = open(dbPath());
    RaftLogStore.open(db);
    expect(db.prepare("pragma journal_mode").get()?.journal_mode).toBe("wal");
    expect(Number(db.prepare("pragma synchronous").get()?.synchronous)).toBe(2);
    db.close();
  });

  test("a batch of entries and hard state survives reopening", () => {
    const p = dbPath();
    const s = RaftLogStore.open(open(p));
    s.save({
      hardState: { term: 3, vote: "n2", commit: 2 },
      entries: [e(1, 1, "a"), e(2, 3, "b")],
    });
    s.close();
    const t = RaftLogStore.open(open(p));
    const st = t.load();
    expect(st.hardState).toEqual({ term: 3, vote: "n2", commit: 2 });
    expect(st.entries.map((x) => `${x.term}/${x.index}`)).toEqual(["1/1", "3/2"]);
    expect(new TextDecoder().decode(st.entries[1]?.data)).toBe("b");
    t.close();
  });

  test("entries starting inside the log replace the conflicting suffix", () => {
    const s = RaftLogStore.open(open(dbPath()));
    s.save({ entries: [e(1, 1, "a"), e(2, 1, "b"), e(3, 1, "c")] });
    s.save({ entries: [e(2, 2, "x")] });
    expect(s.load().entries.map((x) => `${x.term}/${x.index}`)).toEqual(["1/1", "2/2"]);
    s.close();
  });

  test("compaction stores the snapshot and drops entries up to compactTo", () => {
    const s = RaftLogStore.open(open(dbPath()));
    s.save({ entries: [1, 2, 3, 4, 5].map((i) => e(i, 1, `v${i}`)) });
    const snapshot = { meta: { index: 4, term: 1, config }, data: enc.encode("state@4") };
    s.save({ entries: [], compaction: { snapshot, compactTo: 2 } });
    const st = s.load();
    expect(st.snapshot?.meta.index).toBe(4);
    expect(new TextDecoder().decode(st.snapshot?.data)).toBe("state@4");
    expect(st.entries.map((x) => x.index)).toEqual([5]);
    expect(s.entries(1, 10).map((x) => x.index)).toEqual([3, 4, 5]);
    s.close();
  });

  test("an installed snapshot replaces the whole log", () => {
    const s = RaftLogStore.open(open(dbPath()));
    s.save({ entries: [e(1, 1, "a"), e(2, 1, "b")] });
    const snapshot = { meta: { index: 10, term: 4, config }, data: enc.encode("s") };
    s.save({ entries: [], snapshot, hardState: { term: 4, vote: "", commit: 10 } });
    expect(s.load().entries).toEqual([]);
    expect(s.entries(0, 100)).toEqual([]);
    s.close();
  });

  test("a CRC-damaged entry above the commit index is truncated at open, with its tail", () => {
    const p = dbPath();
    const s = RaftLogStore.open(open(p));
    s.save({
      hardState: { term: 1, vote: "", commit: 2 },
      entries: [1, 2, 3, 4].map((i) => e(i, 1, `v${i}`)),
    });
    s.close();
    const raw = open(p);
    raw.prepare("update raft_entries set payload = ? where idx = 3").run(enc.encode("flipped"));
    raw.close();
    const t = RaftLogStore.open(open(p));
    expect(t.report.truncatedFrom).toBe(3);
    expect(t.load().entries.map((x) => x.index)).toEqual([1, 2]);
    t.close();
  });

  test("a CRC-damaged committed entry refuses to start with a clear message", () => {
    const p = dbPath();
    const s = RaftLogStore.open(open(p));
    s.save({
      hardState: { term: 1, vote: "", commit: 3 },
      entries: [1, 2, 3].map((i) => e(i, 1, `v${i}`)),
    });
    s.close();
    const raw = open(p);
    raw.prepare("update raft_entries set payload = ? where idx = 2").run(enc.encode("flipped"));
    raw.close();
    expect(() => RaftLogStore.open(open(p))).toThrow(CorruptLogError);
    expect(() => RaftLogStore.open(open(p))).toThrow(/entry 2 .*commit index 3.*refusing to start/);
  });

  test("a damaged hard state refuses to start", () => {
    const p = dbPath();
    const s = RaftLogStore.open(open(p));
    s.save({ hardState: { term: 5, vote: "n1", commit: 0 }, entries: [] });
    s.close();
    const raw = open(p);
    raw.prepare("update raft_hard_state set vote = 'n3'").run();
    raw.close();
    expect(() => RaftLogStore.open(open(p))).toThrow(/hard state CRC mismatch/);
  });

  test("a failed batch rolls back completely", () => {
    const s = RaftLogStore.open(open(dbPath()));
    s.save({ entries: [e(1, 1, "a")], hardState: { term: 1, vote: "", commit: 0 } });
    const bad = {
      index: 2,
      term: 1,
      type: "bogus",
      data: enc.encode("x"),
    } as unknown as StoredEntry;
    expect(() => s.save({ entries: [bad], hardState: { term: 9, vote: "n9", commit: 0 } }))
      .toThrow();
    const st = s.load();
    expect(st.hardState.term).toBe(1);
    expect(st.entries.map((x) => x.index)).toEqual([1]);
    s.close();
  });
});
