// Proves gossip tags round-trip (reserved + user), malformed remote tags never throw, and a
// member renders as Dkron's /v1/members element.
import { describe, expect, test } from "bun:test";
import {
  clusterMember,
  decodeNodeTags,
  dkronMember,
  encodeNodeTags,
  type NodeTags,
} from "./mod.ts";

const node: NodeTags = {
  server: true,
  region: "eu",
  datacenter: "east",
  version: "0.1.0",
  expect: 3,
  rpcAddr: "10.0.0.1:6868",
  nodeId: "3f2a-uuid",
  hasRaft: true,
  user: { rack: "r1", "app.tier": "web" },
};

describe("tags", () => {
  test("a node's tags carry Dkron's reserved tags and its user tags", () => {
    expect(encodeNodeTags(node)).toEqual({
      rack: "r1",
      "app.tier": "web",
      role: "dkron",
      server: "true",
      region: "eu",
      dc: "east",
      version: "0.1.0",
      id: "3f2a-uuid",
      rpc_addr: "10.0.0.1:6868",
      port: "6868",
      expect: "3",
      raft: "1",
    });
  });

  test("decode(encode(t)) gives t back, plus role and port", () => {
    expect(decodeNodeTags(encodeNodeTags(node))).toEqual({ ...node, role: "dkron", port: 6868 });
    const agent: NodeTags = { ...node, server: false, expect: 0, hasRaft: false, user: {} };
    const tags = encodeNodeTags({ ...agent, expect: 5, hasRaft: true });
    // expect and raft are server-only tags: an agent never advertises them.
    expect(tags.expect).toBeUndefined();
    expect(tags.raft).toBeUndefined();
    expect(decodeNodeTags(tags)).toEqual({ ...agent, role: "dkron", port: 6868 });
  });

  test("a user tag cannot override a reserved tag", () => {
    const tags = encodeNodeTags({ ...node, user: { server: "false", id: "evil", ok: "1" } });
    expect(tags.server).toBe("true");
    expect(tags.id).toBe("3f2a-uuid");
    expect(tags.ok).toBe("1");
  });

  test("malformed or missing remote tags read as empty, never throw", () => {
    expect(decodeNodeTags({ expect: "three", port: "-1", server: "yes" })).toMatchObject({
      server: false,
      expect: 0,
      port: 0,
      nodeId: "",
      rpcAddr: "",
      region: "",
    });
  });
});

describe("dkronMember", () => {
  test("renders Serf's member fields with Go names, status code and text", () => {
    const m = clusterMember({
      name: "s1",
      addr: "10.0.0.1:8946",
      tags: encodeNodeTags(node),
      state: "alive",
      incarnation: 7,
    });
    expect(dkronMember(m)).toEqual({
      Name: "s1",
      Addr: "10.0.0.1",
      Port: 8946,
      Tags: encodeNodeTags(node),
      Status: 1,
      ProtocolMin: 1,
      ProtocolMax: 1,
      ProtocolCur: 1,
      DelegateMin: 1,
      DelegateMax: 1,
      DelegateCur: 1,
      id: "3f2a-uuid",
      statusText: "alive",
    });
  });

  test("gossip states map to Serf statuses (suspect is still alive), IPv6 addresses split", () => {
    const of = (state: "alive" | "suspect" | "dead" | "left") =>
      dkronMember(
        clusterMember({ name: "n", addr: "[fd00::1]:8946", tags: {}, state, incarnation: 1 }),
      );
    expect(of("suspect")).toMatchObject({
      Status: 1,
      statusText: "alive",
      Addr: "fd00::1",
      Port: 8946,
    });
    expect(of("dead")).toMatchObject({ Status: 4, statusText: "failed" });
    expect(of("left")).toMatchObject({ Status: 3, statusText: "left", id: "n" });
  });
});
