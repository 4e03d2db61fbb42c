// Proves the bootstrap-expect decision: bootstrap only when `expect` alive servers agree on
// expect and none holds a Raft configuration; every chosen server computes the same voters.
import { describe, expect, test } from "bun:test";
import { serverMember, type ServerSpec } from "./_testing.ts";
import { type BootstrapDecision, decideBootstrap } from "./mod.ts";

const decide = (
  self: string,
  others: Array<[string, ServerSpec]>,
  o: { expect?: number; hasRaftState?: boolean } = {},
): BootstrapDecision =>
  decideBootstrap({
    self: {
      name: self,
      id: `id-${self}`,
      expect: o.expect ?? 3,
      hasRaftState: o.hasRaftState ?? false,
    },
    region: "global",
    members: [
      serverMember(self, { expect: o.expect ?? 3 }),
      ...others.map(([n, s]) => serverMember(n, s)),
    ],
    selfRpcAddr: "unused:1",
  });

describe("decideBootstrap", () => {
  test("expect reached: every server bootstraps the same voters, sorted by name", () => {
    const peers = (self: string) =>
      ["s1", "s2", "s3"].filter((n) => n !== self).map((n) =>
        [n, { expect: 3 }] as [string, ServerSpec]
      );
    const all = ["s3", "s1", "s2"].map((self) => decide(self, peers(self)));
    const voters = [
      { id: "id-s1", name: "s1", address: "10.0.0.1:6868" },
      { id: "id-s2", name: "s2", address: "10.0.0.2:6868" },
      { id: "id-s3", name: "s3", address: "10.0.0.3:6868" },
    ];
    for (const d of all) expect(d).toEqual({ kind: "bootstrap", voters });
  });

  test("expect not reached: wait, naming what was seen (failed, left, agents, other regions and expect-less servers do not count)", () => {
    const d = decide("s1", [
      ["s2", { expect: 3 }],
      ["s3", { expect: 3, state: "dead" }],
      ["s4", { expect: 3, state: "left" }],
      ["a5", { server: false }],
      ["s6", { expect: 3, region: "eu" }],
      ["s7", {}],
    ]);
    expect(d.kind).toBe("wait");
    if (d.kind !== "wait") throw new Error("unreachable");
    expect(d.seen).toEqual(["s1", "s2"]);
    expect(d.reason).toBe("waiting for 3 servers with bootstrap-expect 3, seen 2 (s1, s2)");
  });

  test("a suspect server still counts as alive", () => {
    expect(decide("s1", [["s2", { expect: 3 }], ["s3", { expect: 3, state: "suspect" }]]).kind)
      .toBe("bootstrap");
  });

  test("mismatched expect values are reported with every value, and block bootstrap", () => {
    const d = decide("s1", [["s2", { expect: 3 }], ["s3", { expect: 5 }]]);
    expect(d).toEqual({
      kind: "mismatch",
      reason:
        "servers disagree on bootstrap-expect: s1 has 3, s3 has 5; start every initial server with the same --bootstrap-expect",
    });
  });

  test("an existing Raft configuration blocks it: on a peer, or on this server", () => {
    expect(decide("s1", [["s2", { expect: 3 }], ["s3", { expect: 3, hasRaft: true }]])).toEqual({
      kind: "exists",
      reason:
        "server(s) s3 already hold a Raft configuration: not bootstrapping, waiting for the leader to add this server",
    });
    expect(decide("s1", [["s2", { expect: 3 }], ["s3", { expect: 3 }]], { hasRaftState: true }))
      .toEqual({ kind: "done" });
  });

  test("no expect: disabled; expect 1 bootstraps alone", () => {
    expect(decide("s1", [], { expect: 0 })).toEqual({ kind: "disabled" });
    expect(decide("s1", [], { expect: 1 })).toEqual({
      kind: "bootstrap",
      voters: [{ id: "id-s1", name: "s1", address: "10.0.0.1:6868" }],
    });
  });

  test("more servers than expect: the first `expect` by name bootstrap, the others stand by", () => {
    const others: Array<[string, ServerSpec]> = [["s2", { expect: 3 }], ["s3", { expect: 3 }]];
    const d1 = decide("s1", [...others, ["s4", { expect: 3 }]]);
    expect(d1.kind === "bootstrap" && d1.voters.map((v) => v.name)).toEqual(["s1", "s2", "s3"]);
    const d4 = decide("s4", [["s1", { expect: 3 }], ...others]);
    expect(d4.kind).toBe("standby");
  });

  test("a server without an id or rpc_addr tag is not counted, and the wait says why", () => {
    const d = decide("s1", [["s2", { expect: 3 }], ["s3", { expect: 3, rpcAddr: "" }]]);
    expect(d.kind === "wait" && d.reason).toContain("ignoring s3 (no id or rpc_addr tag)");
  });
});
