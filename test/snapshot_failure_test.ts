// Proves snapshots fail safe on the production shell + state machine (one voter, fake clock,
// drain synchronous so a throw would escape propose()): a snapshot that fails midway (a full
// disk, injected through the store's snapshotTo) throws nowhere, leaves no partial file, keeps
// the log whole and is retried after the back-off; a snapshot taken while committed entries
// wait on a full disk is labelled with what state.db holds, not what Raft committed; and a
// snapshot file damaged on disk is refused with an error naming it.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RaftShell, type ShellEvent, SnapshotDir } from "../src/consensus/mod.ts";
import { FakeClock, limits, TockError } from "../src/lib/mod.ts";
import { ReplicatedState } from "../src/node/mod.ts";
import { loadRuntime } from "../src/runtime/mod.ts";
import { parseJobBody } from "../src/state/mod.ts";
import { type LogItem, RaftLogStore, type SqlDb, SqliteStateStore } from "../src/store/mod.ts";

const root = mkdtempSync(join(tmpdir(), "snapshot-failure-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** state.db whose snapshot copy or apply can be made to hit a full disk. */
class FlakyStore extends SqliteStateStore {
  snapshotFull = false;
  applyFull = false;
  override snapshotTo(path: string): void {
    if (this.snapshotFull) {
      writeFileSync(path, "half a database"); // what VACUUM INTO leaves when the disk fills
      throw Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
    }
    super.snapshotTo(path);
  }
  override applyLog(firstIndex: number, items: readonly LogItem[]) {
    if (this.applyFull) throw new TockError("storage_full", "disk full (injected)");
    return super.applyLog(firstIndex, items);
  }
}

async function node(name: string, threshold: number) {
  const rt = await loadRuntime();
  const dir = join(root, name);
  const path = join(root, `${name}.db`);
  const store = new FlakyStore(rt.openDb(path), { path, open: (p) => rt.openDb(p) });
  const snapshots = new SnapshotDir(join(dir, "snapshots"));
  const state = new ReplicatedState(store, snapshots);
  const log = RaftLogStore.open(rt.openDb(":memory:") as unknown as SqlDb);
  const clock = new FakeClock(1_000_000);
  const events: ShellEvent[] = [];
  const shell = new RaftShell({
    id: "n1",
    store: log,
    transport: { send: () => {} },
    app: state,
    clock,
    tickMs: 100,
    electionTicks: 10,
    heartbeatTicks: 1,
    seed: 1,
    batch: false,
    trailingEntries: 0,
    snapshotThreshold: threshold,
    snapshotIntervalMs: 0,
    bootstrap: { voters: ["n1"], learners: [] },
    onEvent: (e) => events.push(e),
  });
  shell.start();
  let n = 0;
  const write = () => {
    const r = shell.propose(new TextEncoder().encode(JSON.stringify({
      r: `${name}-${++n}`,
      c: {
        type: "job.upsert",
        job: parseJobBody({
          name: `j${n}`,
          schedule: "@every 1m",
          executor: "shell",
          executor_config: { command: "true" },
        }),
      },
    })));
    expect(r.ok).toBe(true);
  };
  const files = () => readdirSync(snapshots.dir).sort();
  return { store, state, log, clock, events, shell, snapshots, write, files };
}

describe("snapshot failure", () => {
  test("a snapshot failing on a full disk throws nowhere, leaves no file, keeps the log and is retried", async () => {
    const n = await node("full", 4);
    n.store.snapshotFull = true;
    for (let i = 0; i < 6; i++) expect(() => n.write()).not.toThrow();
    expect(n.events.filter((e) => e.type === "snapshotTaken")).toEqual([]);
    expect(n.events.some((e) => e.type === "snapshotFailed")).toBe(true);
    expect(n.files()).toEqual([]);
    expect(n.log.load().snapshot).toBeUndefined(); // nothing compacted

    // Space is back, but the back-off holds the next try until it lapses.
    n.store.snapshotFull = false;
    n.write();
    expect(n.events.filter((e) => e.type === "snapshotTaken")).toEqual([]);
    n.clock.advance(limits.snapshotRetryAfterFailureMs);
    n.write();
    const taken = n.events.filter((e) => e.type === "snapshotTaken");
    expect(taken.length).toBe(1);
    const at = (taken[0] as { index: number }).index;
    expect(at).toBeGreaterThan(6); // covers the entries the failed attempts could not
    expect(n.log.load().snapshot?.meta.index).toBe(at);
    expect(n.files().length).toBe(1);
    n.shell.stop();
  });

  test("a snapshot taken while entries wait on a full disk is labelled with state.db's index", async () => {
    const n = await node("blocked", 0);
    n.write();
    n.write();
    const held = n.state.appliedIndex();
    n.store.applyFull = true;
    n.write();
    n.write();
    expect(n.state.blocked).toBe(2);
    expect(n.shell.status().applied).toBeGreaterThan(held);
    n.store.applyFull = false; // space for the snapshot copy, entries not yet retried
    expect(n.shell.compactNow()).toBe(true);
    expect(n.log.load().snapshot?.meta.index).toBe(held);
    // The waiting entries are still in the log, so a restart could replay them.
    const kept = n.log.load().entries.map((e) => e.index);
    expect(kept[0]).toBeLessThanOrEqual(held + 1);
    n.state.retry();
    expect(n.state.blocked).toBe(0);
    expect(n.state.appliedIndex()).toBe(n.shell.status().applied);
    n.shell.stop();
  });
});

describe("damaged snapshot file", () => {
  test("a snapshot file corrupted on disk is refused before it replaces state.db", async () => {
    const src = await node("src", 0);
    src.write();
    expect(src.shell.compactNow()).toBe(true);
    const snap = src.log.load().snapshot;
    if (snap === undefined) throw new Error("no snapshot taken");
    const dst = await node("dst", 0);
    const file = JSON.parse(new TextDecoder().decode(snap.data)).file as string;
    const bytes = readFileSync(src.snapshots.path(file));
    bytes[Math.floor(bytes.length / 2)] = (bytes[Math.floor(bytes.length / 2)] as number) ^ 0xff;
    writeFileSync(dst.snapshots.path(file), bytes);
    const before = dst.state.appliedIndex();
    expect(() => dst.state.restore(snap)).toThrow(/is corrupt: CRC-32 .* refusing to install/);
    expect(dst.state.appliedIndex()).toBe(before);
    src.shell.stop();
    dst.shell.stop();
  });
});
