// Proves the leader's lease decisions with explicit times: heartbeats renew what a worker holds,
// silence past the lease or a gossip death makes executions lost (once), a new leader grants
// fresh leases from its election so a leader change kills nothing, a worker holding a lost
// execution is told to stop it, and an unreported launch is re-dispatched after a grace.
import { describe, expect, test } from "bun:test";
import type { ExecutionStatus } from "../state/mod.ts";
import { LeaseTable } from "./leases.ts";

const opts = { leaseMs: 15_000, redispatchGraceMs: 5_000 };
const ref = (id: string, node = "w1") => ({ job: "j", executionId: id, node });
const none = (): { status: ExecutionStatus; node: string } | undefined => undefined;

describe("LeaseTable", () => {
  test("a heartbeat listing an execution renews its lease from the heartbeat's time", () => {
    const t = new LeaseTable(opts);
    t.grant(ref("1-1-w1"), 1_000);
    expect(t.get("j/1-1-w1")?.expiresAtMs).toBe(16_000);
    const r = t.heartbeat("w1", ["j/1-1-w1"], 10_000, none);
    expect(r).toEqual({ renewed: ["j/1-1-w1"], stop: [], redispatch: [] });
    expect(t.get("j/1-1-w1")?.expiresAtMs).toBe(25_000);
    expect(t.expired(24_999)).toEqual([]);
  });

  test("silent past the lease: lost once, with the reason, exactly at expiry", () => {
    const t = new LeaseTable(opts);
    t.grant(ref("1-1-w1"), 0);
    expect(t.expired(14_999)).toEqual([]);
    expect(t.expired(15_000)).toEqual([{
      ...ref("1-1-w1"),
      key: "j/1-1-w1",
      cause: "lease_lapsed",
      reason: "lost: node w1 did not report it within its lease",
    }]);
    expect(t.expired(99_000)).toEqual([]); // decided once; the shell proposes it
  });

  test("a lost record that could not be proposed is decided again on the next sweep", () => {
    const t = new LeaseTable(opts);
    t.grant(ref("1-1-w1"), 0);
    expect(t.expired(20_000).length).toBe(1);
    t.lostNotRecorded("j/1-1-w1");
    expect(t.expired(22_000).map((d) => d.key)).toEqual(["j/1-1-w1"]);
    t.settled("j/1-1-w1");
    expect(t.size).toBe(0);
  });

  test("a node declared dead by gossip loses its executions at once, other nodes keep theirs", () => {
    const t = new LeaseTable(opts);
    t.grant(ref("1-1-w1"), 0);
    t.grant(ref("2-1-w1"), 0);
    t.grant(ref("1-1-w2", "w2"), 0);
    const lost = t.nodeDead("w1");
    expect(lost.map((d) => [d.key, d.cause])).toEqual([
      ["j/1-1-w1", "node_dead"],
      ["j/2-1-w1", "node_dead"],
    ]);
    expect(lost[0]?.reason).toBe("lost: node w1 was declared dead by gossip");
    expect(t.expired(15_000).map((d) => d.key)).toEqual(["j/1-1-w2"]); // not decided twice
  });

  test("a new leader grants a fresh lease from its election: the leader change kills nothing", () => {
    // The old leader last heard of the run at t=0 and died; the election took 20 s.
    const old = new LeaseTable(opts);
    old.grant(ref("1-1-w1"), 0);
    const fresh = LeaseTable.afterElection([ref("1-1-w1")], 20_000, opts);
    expect(fresh.expired(20_000)).toEqual([]);
    expect(fresh.expired(34_999)).toEqual([]);
    // The worker finds the new leader and reports the run: it lives on.
    expect(fresh.heartbeat("w1", ["j/1-1-w1"], 30_000, none).renewed).toEqual(["j/1-1-w1"]);
    expect(fresh.expired(44_999)).toEqual([]);
  });

  test("a worker reporting an execution being declared lost is stopped once the lost is applied", () => {
    const t = new LeaseTable(opts);
    t.grant(ref("1-1-w1"), 0);
    t.nodeDead("w1"); // a false death (the worker was only partitioned)
    // While the lost record is proposed: not renewed, and not stopped yet.
    expect(t.heartbeat("w1", ["j/1-1-w1"], 16_000, none)).toEqual({
      renewed: [],
      stop: [],
      redispatch: [],
    });
    t.settled("j/1-1-w1"); // the lost record was applied
    const r = t.heartbeat("w1", ["j/1-1-w1"], 17_000, () => ({ status: "lost", node: "w1" }));
    expect(r.stop).toEqual([{ key: "j/1-1-w1", reason: "declared lost" }]);
  });

  test("after the lost record is applied, the applied status still stops the run", () => {
    const t = new LeaseTable(opts);
    const records: Record<string, ExecutionStatus> = {
      "j/1-1-w1": "lost",
      "j/2-1-w1": "success",
      "j/3-1-w1": "running",
    };
    const status = (key: string) => {
      const s = records[key];
      return s === undefined ? undefined : { status: s, node: "w1" };
    };
    const r = t.heartbeat("w1", ["j/1-1-w1", "j/2-1-w1", "j/3-1-w1", "j/9-1-w1"], 0, status);
    expect(r.stop).toEqual([
      { key: "j/1-1-w1", reason: "declared lost" },
      { key: "j/9-1-w1", reason: "no such execution (its job was deleted?)" },
    ]);
    // A finished one needs nothing; a running one the table missed is adopted and renewed.
    expect(r.renewed).toEqual(["j/3-1-w1"]);
    expect(t.get("j/3-1-w1")?.expiresAtMs).toBe(15_000);
  });

  test("an execution placed on another node is not renewed by this one", () => {
    const t = new LeaseTable(opts);
    t.grant(ref("1-1-w2", "w2"), 0);
    const r = t.heartbeat("w1", ["j/1-1-w2"], 1_000, none);
    expect(r.stop.map((s) => s.key)).toEqual(["j/1-1-w2"]);
    expect(t.get("j/1-1-w2")?.expiresAtMs).toBe(15_000);
    // Nor adopted from the applied state when the record names another node.
    const other = t.heartbeat("w1", ["j/5-1"], 1_000, () => ({ status: "running", node: "w3" }));
    expect(other.stop).toEqual([{ key: "j/5-1", reason: "the execution was placed on node w3" }]);
    expect(t.get("j/5-1")).toBeUndefined();
  });

  test("a launch the worker does not report is re-dispatched after the grace, once per grace", () => {
    const t = new LeaseTable(opts);
    t.grant(ref("1-1-w1"), 0);
    expect(t.heartbeat("w1", [], 4_999, none).redispatch).toEqual([]); // still in flight
    expect(t.heartbeat("w1", [], 5_000, none).redispatch).toEqual(["j/1-1-w1"]);
    expect(t.heartbeat("w1", [], 6_000, none).redispatch).toEqual([]);
    expect(t.heartbeat("w1", [], 10_000, none).redispatch).toEqual(["j/1-1-w1"]);
    // Unreported, it is not renewed: the lease lapses as if the worker were silent.
    expect(t.expired(15_000).map((d) => d.key)).toEqual(["j/1-1-w1"]);
  });

  test("after an election every running execution is re-dispatched unless reported", () => {
    const t = LeaseTable.afterElection([ref("1-1-w1"), ref("2-1-w1")], 100_000, opts);
    const r = t.heartbeat("w1", ["j/1-1-w1"], 105_000, none);
    expect(r).toEqual({ renewed: ["j/1-1-w1"], stop: [], redispatch: ["j/2-1-w1"] });
  });
});
