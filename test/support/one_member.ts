/**
 * A state store behind a one-member Raft group with the production shell, state machine and
 * door, as a lone server runs it (in-memory raft log, real timers): for store-level tests that
 * go through propose().
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RaftShell, SnapshotDir } from "../../src/consensus/mod.ts";
import { type Clock, limits, systemClock } from "../../src/lib/mod.ts";
import { currentOf, Door, ReplicatedState } from "../../src/node/mod.ts";
import { loadRuntime } from "../../src/runtime/mod.ts";
import { RaftLogStore, type SqlDb, type SqliteStateStore } from "../../src/store/mod.ts";

export async function oneMember(store: SqliteStateStore, clock: Clock = systemClock()) {
  const rt = await loadRuntime();
  const state = new ReplicatedState(
    store,
    new SnapshotDir(join(mkdtempSync(join(tmpdir(), "one-member-")), "snapshots")),
  );
  const late: { door?: Door } = {};
  const shell = new RaftShell({
    id: "n1",
    store: RaftLogStore.open(rt.openDb(":memory:") as unknown as SqlDb),
    transport: { send: () => {} },
    app: state,
    clock,
    tickMs: 100,
    electionTicks: 10,
    heartbeatTicks: 1,
    seed: 1,
    maxCommittedPerReady: limits.applyBatchMax,
    bootstrap: { voters: ["n1"], learners: [] },
    onEvent: (e) => {
      if (e.type === "role") late.door?.leaderChanged();
    },
  });
  const door = new Door(
    shell,
    clock,
    () => Promise.reject(new Error("no peers")),
    currentOf(store),
  );
  late.door = door;
  store.onAppliedBatch((items) => door.applied(items));
  state.onBlocked = (rids, err) => door.blocked(rids, err);
  shell.start();
  return {
    door,
    shell,
    state,
    stop() {
      door.close();
      shell.stop();
    },
  };
}
