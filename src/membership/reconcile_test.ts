// Proves the leader's reconcile decision: join as learner, promote once caught up, remove left
// and replaced servers, remove failed ones only after the grace period and only with quorum
// safety, never remove the leader itself, and follow a node id to its new address.
import { describe, expect, test } from "bun:test";
import { serverMember, type ServerSpec } from "./_testing.ts";
import {
  addressUpdates,
  type ClusterMember,
  type MembershipAction,
  type RaftServer,
  reconcile,
  type ReconcileInput,
} from "./mod.ts";

const grace = 300_000;
const voter = (n: string, extra: Partial<RaftServer> = {}): RaftServer => ({
  id: `id-${n}`,
  address: `10.0.0.${n.replace(/\D/g, "")}:6868`,
  voter: true,
  match: 100,
  name: n,
  ...extra,
});
const learner = (n: string, match: number): RaftServer => voter(n, { voter: false, match });

function run(
  members: Array<[string, ServerSpec]> | ClusterMember[],
  servers: RaftServer[],
  o: Partial<ReconcileInput> = {},
) {
  const ms = members.map((m) => (Array.isArray(m) ? serverMember(m[0], m[1]) : m));
  return reconcile({
    selfId: "id-s1",
    region: "global",
    members: ms,
    servers,
    commitIndex: 100,
    downForMs: {},
    failedServerGraceMs: grace,
    ...o,
  });
}
const types = (as: MembershipAction[]) => as.map((a) => `${a.type} ${a.id}`);

describe("reconcile", () => {
  test("a steady cluster needs nothing", () => {
    const r = run([["s1", {}], ["s2", {}], ["s3", {}]], [voter("s1"), voter("s2"), voter("s3")]);
    expect(r).toEqual({ actions: [], notes: [] });
  });

  test("an alive server unknown to Raft joins as a learner at its rpc_addr", () => {
    const r = run(
      [["s1", {}], ["s2", {}], ["s3", {}], ["s4", {}], ["a5", { server: false }], [
        "s6",
        { region: "eu" },
      ]],
      [voter("s1"), voter("s2"), voter("s3")],
    );
    expect(r.actions).toEqual([{
      type: "addLearner",
      id: "id-s4",
      name: "s4",
      address: "10.0.0.4:6868",
      reason: "s4 is an alive server unknown to Raft",
    }]);
  });

  test("a learner is promoted only once caught up, and only while alive", () => {
    const members: Array<[string, ServerSpec]> = [["s1", {}], ["s2", {}], ["s4", {}]];
    const base = [voter("s1"), voter("s2")];
    expect(types(run(members, [...base, learner("s4", 0)]).actions)).toEqual([]);
    expect(run(members, [...base, learner("s4", 0)]).notes).toEqual([
      "s4 is catching up (match 0, commit 100)",
    ]);
    expect(types(run(members, [...base, learner("s4", 10)], { commitIndex: 10_000 }).actions))
      .toEqual([]);
    expect(types(run(members, [...base, learner("s4", 99)]).actions)).toEqual(["promote id-s4"]);
    const failed: Array<[string, ServerSpec]> = [["s1", {}], ["s2", {}], ["s4", { state: "dead" }]];
    expect(types(run(failed, [...base, learner("s4", 100)]).actions)).toEqual([]);
  });

  test("a server that left is removed at once", () => {
    const r = run(
      [["s1", {}], ["s2", {}], ["s3", {}], ["s4", { state: "left" }]],
      [voter("s1"), voter("s2"), voter("s3"), voter("s4")],
    );
    expect(r.actions).toEqual([{ type: "remove", id: "id-s4", reason: "s4 left the cluster" }]);
  });

  test("a failed server is kept during the grace period, removed after it", () => {
    const members: Array<[string, ServerSpec]> = [["s1", {}], ["s2", {}], ["s3", {
      state: "dead",
    }]];
    const servers = [voter("s1"), voter("s2"), voter("s3")];
    const early = run(members, servers, { downForMs: { "id-s3": grace - 1 } });
    expect(early.actions).toEqual([]);
    expect(early.notes).toEqual([`s3 is failed; removed once down for ${grace} ms`]);
    const late = run(members, servers, { downForMs: { "id-s3": grace } });
    expect(types(late.actions)).toEqual(["remove id-s3"]);
    // Unknown duration counts as "just failed".
    expect(run(members, servers).actions).toEqual([]);
  });

  test("a server reaped from gossip counts as failed: removed only after the grace period", () => {
    const members: Array<[string, ServerSpec]> = [["s1", {}], ["s2", {}]];
    const servers = [voter("s1"), voter("s2"), voter("s3")];
    expect(run(members, servers, { downForMs: { "id-s3": 1_000 } }).actions).toEqual([]);
    expect(types(run(members, servers, { downForMs: { "id-s3": grace } }).actions)).toEqual([
      "remove id-s3",
    ]);
  });

  test("failed servers are not removed when too many voters are down (quorum safety)", () => {
    const down = { "id-s2": grace, "id-s3": grace };
    // 3 voters, 2 failed: removing either would leave 1 alive of 2: no quorum.
    const r3 = run(
      [["s1", {}], ["s2", { state: "dead" }], ["s3", { state: "dead" }]],
      [voter("s1"), voter("s2"), voter("s3")],
      { downForMs: down },
    );
    expect(r3.actions).toEqual([]);
    expect(r3.notes).toContain(
      "not removing s2: 2 of 3 voters are down, too many to trust that they failed",
    );
    // 5 voters, 2 failed: both may go, one after the other, each check seeing the other done.
    const r5 = run(
      [["s1", {}], ["s2", { state: "dead" }], ["s3", { state: "dead" }], ["s4", {}], ["s5", {}]],
      [voter("s1"), voter("s2"), voter("s3"), voter("s4"), voter("s5")],
      { downForMs: down },
    );
    expect(types(r5.actions)).toEqual(["remove id-s2", "remove id-s3"]);
    // 5 voters, 3 failed: none.
    const r5x = run(
      [["s1", {}], ["s2", { state: "dead" }], ["s3", { state: "dead" }], ["s4", {
        state: "dead",
      }], ["s5", {}]],
      [voter("s1"), voter("s2"), voter("s3"), voter("s4"), voter("s5")],
      { downForMs: { ...down, "id-s4": grace } },
    );
    expect(r5x.actions).toEqual([]);
  });

  test("left servers are removed only while the alive voters keep a quorum", () => {
    const r = run(
      [["s1", {}], ["s2", { state: "left" }], ["s3", { state: "left" }]],
      [voter("s1"), voter("s2"), voter("s3")],
    );
    expect(r.actions).toEqual([]);
    expect(r.notes).toContain("not removing s2: 1 alive of 2 remaining voters is below a quorum");
  });

  test("a failed learner goes after the grace period without touching the quorum", () => {
    const r = run(
      [["s1", {}], ["s2", { state: "dead" }], ["s4", { state: "dead" }]],
      [voter("s1"), voter("s2"), learner("s4", 50)],
      { downForMs: { "id-s2": grace, "id-s4": grace } },
    );
    expect(types(r.actions)).toEqual(["remove id-s4"]);
  });

  test("the leader never removes itself, even when gossip says it left or failed", () => {
    for (const state of ["left", "dead"] as const) {
      const r = run(
        [["s1", { state }], ["s2", {}], ["s3", {}]],
        [voter("s1"), voter("s2"), voter("s3")],
        { downForMs: { "id-s1": grace * 10 } },
      );
      expect(r.actions).toEqual([]);
    }
  });

  test("a known node id at a new address gets its Raft address updated", () => {
    const r = run(
      [["s1", {}], ["s2", { rpcAddr: "10.9.9.9:7000" }], ["s3", {}]],
      [voter("s1"), voter("s2"), voter("s3")],
    );
    expect(r.actions).toEqual([{
      type: "updateAddress",
      id: "id-s2",
      address: "10.9.9.9:7000",
      reason: "s2 now advertises 10.9.9.9:7000 (was 10.0.0.2:6868)",
    }]);
    expect(
      addressUpdates([serverMember("s2", { rpcAddr: "10.9.9.9:7000" })], [voter("s2")]),
    ).toEqual([{ id: "id-s2", address: "10.9.9.9:7000" }]);
  });

  test("a node with a wiped data dir (same name, new id) replaces the old identity", () => {
    // Gossip knows s3 by name only once: now with the new id. The old id is removed at once
    // (its log is gone: it must not stay a voter), the new one joins as a learner.
    const r = run(
      [["s1", {}], ["s2", {}], ["s3", { id: "id-s3-new", rpcAddr: "10.0.0.3:6868" }]],
      [voter("s1"), voter("s2"), voter("s3")],
    );
    expect(types(r.actions)).toEqual(["remove id-s3", "addLearner id-s3-new"]);
    expect(r.actions[0]?.reason).toBe(
      "s3 was replaced: s3 (node id id-s3-new) now holds its name",
    );
    // Known by address alone (name unknown to this leader): same outcome.
    const { name: _unknown, ...s3NoName } = voter("s3");
    const byAddr = run(
      [["s1", {}], ["s2", {}], ["s7", { id: "id-s7", rpcAddr: "10.0.0.3:6868" }]],
      [voter("s1"), voter("s2"), s3NoName],
    );
    expect(types(byAddr.actions)).toEqual(["remove id-s3", "addLearner id-s7"]);
  });

  test("two members with one node id: the second is ignored and reported", () => {
    const r = run(
      [["s1", {}], ["s2", {}], ["s9", { id: "id-s2" }]],
      [voter("s1"), voter("s2")],
    );
    expect(r.actions).toEqual([]);
    expect(r.notes).toEqual([
      "servers s2 and s9 advertise the same node id id-s2 (a copied data dir?): s9 ignored",
    ]);
  });
});
