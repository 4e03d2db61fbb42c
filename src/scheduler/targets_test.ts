// Proves target selection keeps Dkron's tag syntax and filter (its Test_cleanTags,
// Test_getTargetNodes, Test_getQualifyingNodes and Test_selectNodes vectors, transcribed), and
// Tock's own rules: an untagged job runs on one node, least-loaded first, nodes at their cap
// are skipped, "nothing matched" says why, and the choice replays from its seed.
import { describe, expect, test } from "bun:test";
import { Prng } from "../lib/mod.ts";
import {
  cleanTags,
  type NodeLoad,
  noTargetMessage,
  qualifyingMembers,
  selectTargets,
  type TargetMember,
  type TargetQuery,
} from "./targets.ts";

const member = (
  name: string,
  tags: Record<string, string>,
  state: TargetMember["state"] = "alive",
): TargetMember => ({ name, state, tags: { region: "global", ...tags } });

function query(
  members: TargetMember[],
  tags: Record<string, string> | null,
  over: Partial<TargetQuery> = {},
): TargetQuery {
  return {
    jobName: "job1",
    tags,
    members,
    region: "global",
    load: new Map(),
    prng: new Prng(7),
    ...over,
  };
}

const names = (q: TargetQuery): string[] => {
  const r = selectTargets(q);
  return r.ok ? r.nodes : [];
};

describe("cleanTags (Dkron Test_cleanTags)", () => {
  test("tags without counts are kept and the count is unbounded", () => {
    expect(cleanTags({ key1: "value1", key2: "value2" })).toEqual({
      tags: { key1: "value1", key2: "value2" },
      count: Infinity,
      invalid: [],
    });
  });
  test("a count is stripped from its value", () => {
    const c = cleanTags({ key1: "value1", key2: "value2:5" });
    expect(c.tags).toEqual({ key1: "value1", key2: "value2" });
    expect(c.count).toBe(5);
  });
  test("the smallest of several counts wins", () => {
    const c = cleanTags({ key1: "value1:2", key2: "value2:5" });
    expect(c.tags).toEqual({ key1: "value1", key2: "value2" });
    expect(c.count).toBe(2);
  });
  test("a count that is not an integer becomes 0 and is reported", () => {
    const c = cleanTags({ key1: "value1", key2: "value2:cardinality" });
    expect(c.tags).toEqual({ key1: "value1", key2: "value2" });
    expect(c.count).toBe(0);
    expect(c.invalid).toEqual([{ key: "key2", value: "value2:cardinality" }]);
  });
  test("more than one colon keeps the text before the first and gives no count", () => {
    expect(cleanTags({ k: "a:b:3" })).toEqual({ tags: { k: "a" }, count: Infinity, invalid: [] });
  });
  test("Atoi's rules: a sign is allowed; empty, spaces, decimals and hex are not", () => {
    expect(cleanTags({ k: "v:+3" }).count).toBe(3);
    expect(cleanTags({ k: "v:-1" }).count).toBe(-1);
    for (const bad of ["v:", "v: 3", "v:3.0", "v:0x3", "v:1e3"]) {
      expect(cleanTags({ k: bad }).invalid.length).toBe(1);
    }
  });
});

describe("selectTargets (Dkron Test_getTargetNodes)", () => {
  // test1, test2: servers with tag=test; test3: agent with tag=test_client; test2 and test3 have
  // extra=tag; all three have additional=value, additional2=value2.
  const common = { additional: "value", additional2: "value2" };
  const cluster = [
    member("test1", { tag: "test", server: "true", ...common }),
    member("test2", { tag: "test", extra: "tag", server: "true", ...common }),
    member("test3", { tag: "test_client", extra: "tag", ...common }),
  ];

  test("a count of 2 returns both matching nodes", () => {
    expect(names(query(cluster, { tag: "test:2" }))).toEqual(["test1", "test2"]);
  });
  test("a count of 1 with two matching nodes returns one of them", () => {
    const got = names(query(cluster, { tag: "test:1" }));
    expect(got.length).toBe(1);
    expect(["test1", "test2"]).toContain(got[0] as string);
  });
  test("no tags: ONE node (Tock's default; Dkron ran on all 3)", () => {
    expect(names(query(cluster, null)).length).toBe(1);
    expect(names(query(cluster, {})).length).toBe(1);
  });
  test("an exclusive tag returns its node", () => {
    expect(names(query(cluster, { tag: "test_client:1" }))).toEqual(["test3"]);
  });
  test("an existing key with no matching value returns no node", () => {
    const r = selectTargets(query(cluster, { tag: "no_tag" }));
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.reason).toBe("no_match");
  });
  test("one matching and one unknown tag returns no node (tags are ANDed)", () => {
    expect(names(query(cluster, { foo: "bar:1", tag: "test:2" }))).toEqual([]);
  });
  test("two tags with a count of 2 but one node matching both returns that node", () => {
    expect(names(query(cluster, { tag: "test:2", extra: "tag:2" }))).toEqual(["test2"]);
  });
  test("an invalid count yields no node and says why", () => {
    const r = selectTargets(query(cluster, { tag: "test:invalid" }));
    expect(r).toMatchObject({ ok: false, reason: "invalid_count" });
    expect(r.ok ? "" : r.message).toContain(`tag: "test:invalid"`);
  });
  test("a tagged job without a count runs on every matching node, as in Dkron", () => {
    expect(names(query(cluster, { extra: "tag" }))).toEqual(["test2", "test3"]);
  });
  test("999 single draws over 3 matching nodes: each exactly 333 when loads feed back", () => {
    // Dkron used a round-robin selector; here the feedback of running counts does the same job.
    const load = new Map<string, NodeLoad>();
    const prng = new Prng(1);
    const tally = new Map<string, number>();
    for (let i = 0; i < 999; i++) {
      const got = names(
        query(cluster, { additional: "value:1", additional2: "value2:1" }, { load, prng }),
      );
      expect(got.length).toBe(1);
      const n = got[0] as string;
      tally.set(n, (tally.get(n) ?? 0) + 1);
      load.set(n, { running: (load.get(n)?.running ?? 0) + 1, capacity: Infinity });
    }
    expect(Object.fromEntries(tally)).toEqual({ test1: 333, test2: 333, test3: 333 });
  });
  test("with equal loads the PRNG spreads single draws over every node", () => {
    const prng = new Prng(99);
    const tally = new Map<string, number>();
    for (let i = 0; i < 999; i++) {
      const n = names(query(cluster, null, { prng }))[0] as string;
      tally.set(n, (tally.get(n) ?? 0) + 1);
    }
    // Seeded, so exact; the bounds only say "roughly a third each" to a reader.
    for (const n of ["test1", "test2", "test3"]) {
      expect(tally.get(n) ?? 0).toBeGreaterThan(280);
      expect(tally.get(n) ?? 0).toBeLessThan(390);
    }
  });
});

describe("qualifyingMembers (Dkron Test_getQualifyingNodes)", () => {
  const n1 = member("n1", { tag: "test", just1: "value", tagfor2: "2" });
  const n2 = member("n2", { tag: "test", just2: "value", tagfor2: "2" });
  const n3 = member("n3", { tag: "test", just3: "value" });
  const n4 = member("n4", { dead: "true", just1: "value" }, "dead");
  const n5 = { name: "n5", state: "alive", tags: { region: "atlantis", just1: "value" } } as const;
  const cases: Array<[string, TargetMember[], Record<string, string>, string[]]> = [
    ["all nodes match tag", [n1, n2, n3], { tag: "test" }, ["n1", "n2", "n3"]],
    ["only node1 matches tag", [n1, n2, n3], { just1: "value" }, ["n1"]],
    ["only node2 matches tag", [n1, n2, n3], { just2: "value" }, ["n2"]],
    ["tag matches two nodes", [n1, n2, n3], { tagfor2: "2" }, ["n1", "n2"]],
    ["no nodes match tag", [n1, n2, n3], { unknown: "value" }, []],
    ["dead nodes don't match", [n1, n4], {}, ["n1"]],
    ["no nodes returns no nodes", [], { just1: "value" }, []],
    ["no tags matches all nodes", [n1, n2, n3], {}, ["n1", "n2", "n3"]],
    ["nodes out of region don't match", [n1, n5], {}, ["n1"]],
    ["multiple tags match correct nodes", [n1, n2, n3], { tag: "test", tagfor2: "2" }, [
      "n1",
      "n2",
    ]],
  ];
  for (const [name, members, tags, want] of cases) {
    test(name, () => {
      expect(qualifyingMembers(members, tags, "global").map((m) => m.name)).toEqual(want);
    });
  }
  test("a member that gossips no region is in the default region", () => {
    const bare = { name: "bare", state: "alive", tags: {} } as const;
    expect(qualifyingMembers([bare], {}, "global").map((m) => m.name)).toEqual(["bare"]);
    expect(qualifyingMembers([bare], {}, "eu")).toEqual([]);
  });
  test("left members do not match; suspect ones still do (Serf calls them alive)", () => {
    const gone = member("gone", {}, "left");
    const sus = member("sus", {}, "suspect");
    expect(qualifyingMembers([gone, sus], {}, "global").map((m) => m.name)).toEqual(["sus"]);
  });
});

describe("selectTargets counts (Dkron Test_selectNodes)", () => {
  const three = [member("node1", { t: "x" }), member("node2", { t: "x" }), member("node3", {})];
  const all3 = [
    member("node1", { t: "x" }),
    member("node2", { t: "x" }),
    member("node3", {
      t: "x",
    }),
  ];
  test("count 0 returns none, and says so", () => {
    expect(selectTargets(query(all3, { t: "x:0" }))).toMatchObject({
      ok: false,
      reason: "zero_count",
    });
  });
  test("a negative count returns none", () => {
    expect(names(query(all3, { t: "x:-1" }))).toEqual([]);
  });
  test("a count above the node count returns all", () => {
    expect(names(query(all3, { t: "x:1000" }))).toEqual(["node1", "node2", "node3"]);
  });
  test("a count equal to the node count returns all", () => {
    expect(names(query(all3, { t: "x:3" }))).toEqual(["node1", "node2", "node3"]);
  });
  test("count 2 returns two distinct nodes", () => {
    const got = names(query(all3, { t: "x:2" }));
    expect(new Set(got).size).toBe(2);
  });
  test("no members with a count returns none", () => {
    expect(names(query([], { t: "x:2" }))).toEqual([]);
    expect(names(query(three, { t: "y:2" }))).toEqual([]);
  });
});

describe("Tock's rules", () => {
  const nodes = [member("a", {}), member("b", {}), member("c", {})];
  const loads = (entries: Array<[string, number, number?]>) =>
    new Map(
      entries.map(([n, running, capacity]) => [n, { running, capacity: capacity ?? Infinity }]),
    );

  test("an untagged job goes to the node running the fewest executions", () => {
    const load = loads([["a", 3], ["b", 1], ["c", 2]]);
    expect(names(query(nodes, null, { load }))).toEqual(["b"]);
  });
  test("a counted job takes the least-loaded nodes", () => {
    const all = nodes.map((m) => ({ ...m, tags: { ...m.tags, t: "x" } }));
    const load = loads([["a", 5], ["b", 0], ["c", 2]]);
    expect(names(query(all, { t: "x:2" }, { load }))).toEqual(["b", "c"]);
  });
  test("a node at its max-parallel cap is not chosen, however idle the others look", () => {
    const load = loads([["a", 0, 0], ["b", 4, 4], ["c", 9]]);
    const r = selectTargets(query(nodes, null, { load }));
    expect(r).toEqual({ ok: true, nodes: ["c"], atCapacity: ["a", "b"] });
  });
  test("every matching node at its cap: nothing runs, and the reason names them", () => {
    const load = loads([["a", 1, 1], ["b", 2, 2], ["c", 1, 1]]);
    const r = selectTargets(query(nodes, null, { load }));
    expect(r).toMatchObject({ ok: false, reason: "at_capacity", atCapacity: ["a", "b", "c"] });
    if (!r.ok) {
      expect(noTargetMessage("job1", r)).toBe(
        "no target nodes found to run job job1: every matching node is at its max-parallel limit (a, b, c)",
      );
    }
  });
  test("only members of the leader's region run the job", () => {
    const mixed = [member("a", {}), { name: "z", state: "alive", tags: { region: "eu" } } as const];
    expect(names(query(mixed, null, { region: "eu" }))).toEqual(["z"]);
    const r = selectTargets(query(mixed, null, { region: "us" }));
    expect(r).toMatchObject({ ok: false, reason: "no_match" });
    expect(r.ok ? "" : r.message).toBe(`no alive node in region "us"`);
  });
  test("dead members never run an untagged job", () => {
    const r = selectTargets(query([member("a", {}, "dead"), member("b", {}, "left")], null));
    expect(r).toMatchObject({ ok: false, reason: "no_match" });
  });
  test("the same seed and data give the same choice, whatever order gossip lists members in", () => {
    const pick = (ms: TargetMember[], seed: number) =>
      Array.from({ length: 50 }, () => 0).map((_, i) =>
        names(query(ms, null, { prng: new Prng(seed + i) }))[0]
      );
    const reversed = [...nodes].reverse();
    expect(pick(nodes, 11)).toEqual(pick(reversed, 11));
    expect(new Set(pick(nodes, 11)).size).toBe(3); // the seed does matter
  });
});
