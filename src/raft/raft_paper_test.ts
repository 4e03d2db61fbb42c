// Proves the Raft core follows the rules of the Raft paper (Figure 2/3, §5.4, Figure 8, Figure 13)
// plus the PreVote, CheckQuorum and membership rules, one test per rule, by driving cores directly
// with step()/tick() and inspecting their messages and state.
import { describe, expect, test } from "bun:test";
import { Prng } from "../lib/mod.ts";
import { TestCluster } from "./_harness.ts";
import { Raft } from "./raft.ts";
import { type Entry, type Message, type VoteRequest } from "./types.ts";

const enc = new TextEncoder();

function elected(opts: { preVote?: boolean; checkQuorum?: boolean } = {}): TestCluster {
  const c = new TestCluster();
  c.addVoters(["n1", "n2", "n3"], opts);
  c.node("n1").campaign();
  c.stabilize();
  expect(c.leader()).toBe("n1");
  return c;
}

function voteReq(over: Partial<VoteRequest>): VoteRequest {
  return {
    type: "vote",
    from: "n2",
    to: "n1",
    term: 5,
    lastIndex: 1,
    lastTerm: 1,
    transfer: false,
    ...over,
  };
}

function bareNode(entries: Entry[] = [], term = 1): Raft {
  const cfg = enc.encode(JSON.stringify({ voters: ["n1", "n2", "n3"], learners: [] }));
  return new Raft(
    { id: "n1", electionTicks: 10, heartbeatTicks: 1, prng: new Prng(1) },
    {
      hardState: { term, vote: "", commit: 1 },
      entries: [{ index: 1, term: 1, type: "config", data: cfg }, ...entries],
    },
  );
}

function sent(r: Raft): Message[] {
  const rd = r.ready();
  r.advance();
  return [...rd.messages];
}

describe("Raft paper rules", () => {
  test("election safety: a node grants at most one vote per term", () => {
    const r = bareNode();
    r.step(voteReq({ from: "n2", term: 5 }));
    r.step(voteReq({ from: "n3", term: 5 }));
    const resp = sent(r).filter((m) => m.type === "voteResp");
    expect(resp.map((m) => [m.to, m.type === "voteResp" && m.reject])).toEqual([
      ["n2", false],
      ["n3", true],
    ]);
    expect(r.hardState().vote).toBe("n2");
  });

  test("step() rejects a vote request from a stale term", () => {
    const r = bareNode([], 7);
    r.step(voteReq({ term: 3 }));
    expect(sent(r)).toEqual([]);
    expect(r.status().term).toBe(7);
  });

  test("§5.4.1 a vote is refused to a candidate whose log is less up to date", () => {
    const r = bareNode([{ index: 2, term: 3, type: "normal", data: new Uint8Array() }], 3);
    r.step(voteReq({ term: 4, lastIndex: 5, lastTerm: 2 }));
    const [m] = sent(r);
    expect(m?.type === "voteResp" && m.reject).toBe(true);
  });

  test("the broken variant grants that vote (so the simulator can show the rule matters)", () => {
    const cfg = enc.encode(JSON.stringify({ voters: ["n1", "n2", "n3"], learners: [] }));
    const r = new Raft(
      {
        id: "n1",
        electionTicks: 10,
        heartbeatTicks: 1,
        prng: new Prng(1),
        broken: { voteWithoutLogCheck: true },
      },
      {
        hardState: { term: 3, vote: "", commit: 1 },
        entries: [
          { index: 1, term: 1, type: "config", data: cfg },
          { index: 2, term: 3, type: "normal", data: new Uint8Array() },
        ],
      },
    );
    r.step(voteReq({ term: 4, lastIndex: 5, lastTerm: 2 }));
    const [m] = sent(r);
    expect(m?.type === "voteResp" && m.reject).toBe(false);
  });

  test("log matching: a follower rejects an append whose previous entry does not match", () => {
    const r = bareNode([{ index: 2, term: 1, type: "normal", data: new Uint8Array() }], 2);
    r.step({
      type: "app",
      from: "n2",
      to: "n1",
      term: 2,
      prevIndex: 2,
      prevTerm: 2,
      entries: [],
      commit: 1,
      session: 1,
    });
    const [m] = sent(r);
    expect(m?.type === "appResp" && m.reject && m.index === 2 && m.hint === 2).toBe(true);
  });

  test("log matching: a conflicting uncommitted suffix is replaced by the leader's entries", () => {
    const r = bareNode([
      { index: 2, term: 1, type: "normal", data: enc.encode("a") },
      { index: 3, term: 1, type: "normal", data: enc.encode("old") },
    ], 2);
    r.step({
      type: "app",
      from: "n2",
      to: "n1",
      term: 2,
      prevIndex: 2,
      prevTerm: 1,
      entries: [{ index: 3, term: 2, type: "normal", data: enc.encode("new") }],
      commit: 3,
      session: 1,
    });
    expect(r.termAt(3)).toBe(2);
    expect(r.status().commit).toBe(3);
  });

  test("leader append-only: a leader never overwrites its own entries on a higher-term reject", () => {
    const c = elected();
    const before = c.node("n1").entries(1, 100).map((e) => `${e.term}/${e.index}`);
    c.node("n1").step({
      type: "appResp",
      from: "n2",
      to: "n1",
      term: 2,
      index: 1,
      reject: true,
      hint: 0,
      session: c.node("n1").status().progress["n2"]?.session ?? 0,
    });
    c.stabilize();
    expect(c.node("n1").entries(1, 100).map((e) => `${e.term}/${e.index}`)).toEqual(before);
  });

  test("leader completeness: a node missing a committed entry cannot win an election", () => {
    const c = elected({ preVote: false });
    c.isolate("n3");
    c.node("n1").propose(enc.encode("x"));
    c.stabilize();
    expect(c.node("n1").status().commit).toBe(3);
    c.heal();
    c.isolate("n1");
    c.node("n2").forgetLeader();
    c.node("n3").campaign();
    c.stabilize();
    expect(c.node("n3").status().role).not.toBe("leader");
    c.node("n2").campaign();
    c.stabilize();
    expect(c.node("n2").status().role).toBe("leader");
  });

  test("state machine safety: every node applies the same entries in the same order", () => {
    const c = elected();
    for (const v of ["a", "b", "c"]) c.node("n1").propose(enc.encode(v));
    c.stabilize();
    expect(c.appliedData("n2")).toEqual(["a", "b", "c"]);
    expect(c.appliedData("n3")).toEqual(c.appliedData("n1"));
  });

  test("figure 8: a leader does not commit an old-term entry by counting replicas", () => {
    const cfg = enc.encode(JSON.stringify({ voters: ["n1", "n2", "n3"], learners: [] }));
    // n1 holds an uncommitted entry of term 2 and becomes leader in term 3.
    const r = new Raft(
      { id: "n1", electionTicks: 10, heartbeatTicks: 1, prng: new Prng(1), preVote: false },
      {
        hardState: { term: 2, vote: "", commit: 1 },
        entries: [
          { index: 1, term: 1, type: "config", data: cfg },
          { index: 2, term: 2, type: "normal", data: enc.encode("old") },
        ],
      },
    );
    r.campaign();
    sent(r);
    r.step({ type: "voteResp", from: "n2", to: "n1", term: 3, reject: false });
    expect(r.status().role).toBe("leader");
    sent(r);
    const session = r.status().progress["n2"]?.session ?? 0;
    // n2 acknowledges only the old entry: a majority holds index 2, but it is of term 2.
    r.step({
      type: "appResp",
      from: "n2",
      to: "n1",
      term: 3,
      index: 2,
      reject: false,
      hint: 2,
      session,
    });
    expect(r.status().commit).toBe(1);
    // Once the term-3 no-op is on a majority, both commit.
    r.step({
      type: "appResp",
      from: "n2",
      to: "n1",
      term: 3,
      index: 3,
      reject: false,
      hint: 3,
      session,
    });
    expect(r.status().commit).toBe(3);
  });

  test("elections: the randomized election timeout lies in [base, 2 × base)", () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 200; seed++) {
      const cfg = enc.encode(JSON.stringify({ voters: ["n1", "n2", "n3"], learners: [] }));
      const r = new Raft(
        { id: "n1", electionTicks: 10, heartbeatTicks: 1, prng: new Prng(seed), preVote: false },
        {
          hardState: { term: 1, vote: "", commit: 1 },
          entries: [{ index: 1, term: 1, type: "config", data: cfg }],
        },
      );
      let ticks = 0;
      while (r.status().role === "follower") {
        r.tick();
        ticks++;
      }
      seen.add(ticks);
    }
    expect(Math.min(...seen)).toBe(10);
    expect(Math.max(...seen)).toBe(19);
    expect(seen.size).toBe(10);
  });

  test("PreVote: a pre-candidate does not raise its term when it loses", () => {
    const c = elected({ checkQuorum: false });
    c.isolate("n3");
    for (let i = 0; i < 5; i++) {
      c.tick("n3", 20);
      c.stabilize();
    }
    expect(c.node("n3").status().term).toBe(2);
    c.heal();
    c.tick("n1");
    c.stabilize();
    expect(c.leader()).toBe("n1");
    expect(c.node("n1").status().term).toBe(2);
  });

  test("CheckQuorum: a leader without quorum contact steps down after an election timeout", () => {
    const c = elected();
    c.isolate("n1");
    // The first round still counts the replies heard before the partition; the second has none.
    c.tick("n1", 10);
    expect(c.node("n1").status().role).toBe("leader");
    c.tick("n1", 10);
    expect(c.node("n1").status().role).toBe("follower");
  });

  test("CheckQuorum: a follower that recently heard its leader ignores a higher-term vote", () => {
    const c = elected({ preVote: false });
    c.node("n2").step(voteReq({ from: "n3", to: "n2", term: 9, lastIndex: 10, lastTerm: 9 }));
    expect(c.node("n2").status().term).toBe(2);
    expect(c.node("n2").hasReady()).toBe(false);
  });

  test("membership: votes from servers outside the configuration are refused without a term bump", () => {
    const r = bareNode();
    r.step(voteReq({ from: "n9", term: 9 }));
    expect(r.status().term).toBe(1);
    const [m] = sent(r);
    expect(m?.type === "voteResp" && m.reject).toBe(true);
  });

  test("membership: only one uncommitted configuration change at a time", () => {
    const c = elected();
    expect(c.node("n1").proposeConfChange({ type: "addLearner", node: "n4" }).ok).toBe(true);
    const second = c.node("n1").proposeConfChange({ type: "addLearner", node: "n5" });
    expect(second.ok === false && second.reason).toBe("pending_config");
  });

  test("membership: a change takes effect when appended, before it commits", () => {
    const c = elected();
    c.node("n1").proposeConfChange({ type: "remove", node: "n3" });
    expect(c.node("n1").status().config.voters).toEqual(["n1", "n2"]);
    expect(c.node("n1").status().commit).toBe(2);
  });

  test("membership: a learner receives the log but never campaigns", () => {
    const c = new TestCluster();
    c.addVoters(["n1", "n2", "n3"], {}, ["n4"]);
    c.node("n1").campaign();
    c.stabilize();
    c.node("n1").propose(enc.encode("v"));
    c.stabilize();
    expect(c.appliedData("n4")).toEqual(["v"]);
    c.isolate("n1");
    c.tick("n4", 100);
    expect(c.node("n4").status().role).toBe("follower");
  });

  test("ReadIndex: a partitioned leader never confirms a read", () => {
    const c = elected();
    c.isolate("n1");
    c.node("n1").readIndex("r");
    const rd = c.processReady("n1");
    c.stabilize();
    expect(rd?.readStates ?? []).toEqual([]);
  });

  test("snapshots: compaction keeps the trailing entries and a lagging follower still catches up", () => {
    const c = new TestCluster();
    c.addVoters(["n1", "n2", "n3"], { trailingEntries: 2 });
    c.node("n1").campaign();
    c.stabilize();
    c.isolate("n3");
    for (let i = 0; i < 6; i++) c.node("n1").propose(enc.encode(`v${i}`));
    c.stabilize();
    const applied = c.node("n1").status().applied;
    c.node("n1").compact(applied, enc.encode(JSON.stringify(c.appliedData("n1"))));
    c.processReady("n1");
    expect(c.node("n1").status().firstIndex).toBe(applied - 1);
    c.heal();
    c.tick("n1");
    c.stabilize();
    expect(c.appliedData("n3")).toEqual(c.appliedData("n1"));
  });

  test("replication sessions: a reply from an earlier session is ignored (raft-rs #571)", () => {
    const c = elected();
    const n1 = c.node("n1");
    const old = n1.status().progress["n3"]?.session ?? 0;
    // Remove n3, then add it back in the same term: a new session starts.
    n1.proposeConfChange({ type: "remove", node: "n3" });
    c.stabilize();
    n1.proposeConfChange({ type: "addLearner", node: "n3" });
    const fresh = n1.status().progress["n3"];
    expect(fresh?.session).not.toBe(old);
    // A delayed success from the old session claims a match it does not have now.
    n1.step({
      type: "appResp",
      from: "n3",
      to: "n1",
      term: 2,
      index: 4,
      reject: false,
      hint: 4,
      session: old,
    });
    expect(n1.status().progress["n3"]?.match).toBe(0);
    n1.step({
      type: "appResp",
      from: "n3",
      to: "n1",
      term: 2,
      index: 4,
      reject: false,
      hint: 4,
      session: fresh?.session ?? 0,
    });
    expect(n1.status().progress["n3"]?.match).toBe(4);
  });
});
