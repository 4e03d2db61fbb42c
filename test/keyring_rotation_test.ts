// Proves cluster-wide gossip key rotation without downtime on 5 real gossip shells (UDP + TCP
// on 127.0.0.1, ephemeral ports, AES-GCM with an initial key and a cluster label) under traffic
// (user events and tag updates flowing the whole time): list → install K2 → use K2 → remove K1,
// each step acknowledged by 5 of 5 members through gossip queries; removing the primary and
// using a key not installed are refused and say why; no member is ever suspected or declared
// failed; each node's persist hook receives its new keys; a member started afterwards with only
// K2 joins, and a node with only K1 is refused (its frames counted as rejected, nothing crashes).
// Time is a fake clock advanced in 10 ms steps with real socket IO between steps, so a loaded
// machine slows the test down but cannot make a member look dead.
import { afterEach, describe, expect, test } from "bun:test";
import { isTockError } from "../src/lib/mod.ts";
import { attachKeyringOps, generateKey, startGossipNode } from "../src/net/mod.ts";
import {
  drive,
  FakeClock,
  runUntil,
  started,
  startNode,
  stopAll,
  type TestNode,
  traffic,
} from "./support/gossip_keyring.ts";

const aliveCount = (n: TestNode) => n.s.core.members().filter((m) => m.state === "alive").length;
const failedEvents = (nodes: TestNode[]) =>
  nodes.flatMap((n) =>
    n.events.filter((e) => e.type === "member" && e.kind === "failed").map((e) =>
      `${n.s.core.name} saw ${e.type === "member" ? e.member.name : ""} failed`
    )
  );
const suspects = (nodes: TestNode[]) => nodes.reduce((a, n) => a + n.s.core.stats.suspects, 0);

afterEach(stopAll);

describe("gossip key rotation across 5 real shells", () => {
  test(
    "install → use → remove under traffic: every step 5/5, refusals explained, no member suspected, new-key member joins, old-key node refused",
    async () => {
      const clock = new FakeClock();
      const k1 = generateKey(32);
      const k2 = generateKey(32);
      const seed = await startNode("n0", clock, [k1]);
      const nodes = [seed];
      for (let i = 1; i < 5; i++) {
        nodes.push(await startNode(`n${i}`, clock, [k1], seed.s.core.addr));
      }
      await runUntil(
        clock,
        () => nodes.every((n) => aliveCount(n) === 5),
        () => nodes.map((n) => `${n.s.core.name}:${aliveCount(n)}`).join(" "),
      );
      const origin = nodes[2] as TestNode; // any member can rotate, not only the seed

      const listed = await drive(clock, nodes, origin.ops.list(), "list");
      expect([listed.members, listed.acks, listed.missing]).toEqual([5, 5, []]);
      expect(listed.keys).toEqual({ [k1]: 5 });
      expect(listed.primaryKeys).toEqual({ [k1]: 5 });

      // Using a key no member holds is refused before anything changes.
      let refused: unknown;
      try {
        await drive(clock, nodes, origin.ops.use(k2), "use before install");
      } catch (e) {
        refused = e;
      }
      expect(isTockError(refused) && refused.kind).toBe("conflict");
      expect(String(refused)).toContain("0 of 5 members hold it");

      const installed = await drive(clock, nodes, origin.ops.install(k2), "install");
      expect([installed.members, installed.acks, installed.errors]).toEqual([5, 5, {}]);
      expect(installed.keys).toEqual({ [k1]: 5, [k2]: 5 });

      // Removing the key every member still uses is refused by each, and says why.
      const early = await drive(clock, nodes, origin.ops.remove(k1), "remove primary");
      expect([early.members, early.acks, Object.keys(early.errors).length]).toEqual([5, 0, 5]);
      for (const why of Object.values(early.errors)) expect(why).toMatch(/primary/);

      const used = await drive(clock, nodes, origin.ops.use(k2), "use");
      expect([used.members, used.acks, used.errors]).toEqual([5, 5, {}]);
      expect(used.primaryKeys).toEqual({ [k2]: 5 });

      const removed = await drive(clock, nodes, origin.ops.remove(k1), "remove");
      expect([removed.members, removed.acks, removed.errors, removed.missing]).toEqual([
        5,
        5,
        {},
        [],
      ]);
      expect(removed.keys).toEqual({ [k2]: 5 });
      // Each node persisted install, use and remove, ending with only K2.
      for (const n of nodes) {
        expect(n.persisted).toEqual([[k1, k2], [k2, k1], [k2]]);
      }

      // Keep the traffic flowing a while on the new key: nobody is suspected, nobody fails.
      const until = clock.t + 3000;
      await runUntil(
        clock,
        () => clock.t >= until,
        () => `t=${clock.t}`,
        () => traffic(nodes, clock),
      );
      expect(failedEvents(nodes)).toEqual([]);
      expect(suspects(nodes)).toBe(0);
      expect(nodes.every((n) => aliveCount(n) === 5)).toBe(true);

      // A member started now with only K2 joins everyone.
      const late = await startNode("n5", clock, [k2], seed.s.core.addr);
      const six = [...nodes, late];
      await runUntil(
        clock,
        () => six.every((n) => aliveCount(n) === 6),
        () => six.map((n) => `${n.s.core.name}:${aliveCount(n)}`).join(" "),
        () => traffic(six, clock),
      );

      // A node holding only the removed K1 is refused: its frames are rejected and counted.
      // Not one frame was refused during the whole rotation: every member could always read
      // every other, which is what "without downtime" means here.
      expect(six.map((n) => n.s.stats.rejected)).toEqual([0, 0, 0, 0, 0, 0]);
      const rejectedBefore = seed.s.stats.rejected;
      const stale = await startNode("old", clock, [k1], seed.s.core.addr);
      await runUntil(
        clock,
        () => seed.s.stats.rejected >= rejectedBefore + 3,
        () => `seed rejected ${seed.s.stats.rejected - rejectedBefore}`,
        () => traffic(six, clock),
      );
      expect(six.some((n) => n.s.core.member("old") !== undefined)).toBe(false);
      expect(aliveCount(stale)).toBe(1);

      const final = await drive(clock, six, late.ops.list(), "final list");
      expect([final.members, final.acks, final.keys]).toEqual([6, 6, { [k2]: 6 }]);
      expect(failedEvents(six)).toEqual([]);
      expect(suspects(six)).toBe(0);
    },
    120_000,
  );

  test(
    "a node without encryption answers every keyring operation with an error, not a change",
    async () => {
      const clock = new FakeClock();
      const a = await startNode("a", clock, [generateKey(16)]);
      const s = await startGossipNode({
        name: "plain",
        bindHost: "127.0.0.1",
        bindPort: 0,
        profile: "fast",
        clock,
      });
      started.push(s);
      const plain = attachKeyringOps(s);
      const b = { s, events: [], ops: plain, persisted: [] } as TestNode;
      // Two clusters cannot mix (one encrypted, one not): the plain node lists only itself.
      const r = await drive(clock, [b], plain.install(generateKey(16)), "install on plain node");
      expect([r.members, r.acks]).toEqual([1, 0]);
      expect(r.errors["plain"]).toMatch(/encryption is not enabled/);
      expect(s.keyring).toBeUndefined();
      // A malformed key is refused before any query is sent.
      await expect(a.ops.install("not-a-key")).rejects.toThrow(/16, 24 or 32/);
    },
    60_000,
  );
});
