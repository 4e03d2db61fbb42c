// Proves reconcile's safety rules hold over random histories (joins, failures, recoveries,
// leaves, restarts on new addresses, wiped data dirs, time passing), applying one action per
// step as the glue does: the leader is never removed, an alive server is never removed, a
// removal never leaves the alive voters short of a quorum, a failed server goes only after the
// grace period, and once gossip is quiet the configuration converges to the alive servers.
// Each seed replays exactly (the Prng is the only randomness).
import { describe, expect, test } from "bun:test";
import type { NodeState } from "../gossip/mod.ts";
import { Prng } from "../lib/mod.ts";
import { serverMember } from "./_testing.ts";
import { type ClusterMember, quorumOf, type RaftServer, reconcile } from "./mod.ts";

const grace = 10_000;

interface Node {
  name: string;
  id: string;
  state: NodeState;
  rpcAddr: string;
}

interface World {
  nodes: Node[];
  servers: RaftServer[];
  down: Record<string, number>;
  next: number;
}

const members = (w: World): ClusterMember[] =>
  w.nodes.map((n) => serverMember(n.name, { id: n.id, state: n.state, rpcAddr: n.rpcAddr }));

const up = (w: World, id: string) =>
  w.nodes.some((n) => n.id === id && (n.state === "alive" || n.state === "suspect"));

function step(w: World, prng: Prng): string {
  const others = w.nodes.filter((n) => n.name !== "s0");
  const pick = () => others[prng.int(0, others.length)];
  switch (prng.int(0, 7)) {
    case 0: {
      const name = `s${w.next++}`;
      w.nodes.push({ name, id: `id-${name}`, state: "alive", rpcAddr: `${name}:6868` });
      return `join ${name}`;
    }
    case 1: {
      // The leader too, now and then: its own gossip record must never get it removed.
      const n = prng.int(0, 8) === 0 ? w.nodes[0] : pick();
      if (n) n.state = prng.int(0, 2) === 0 ? "suspect" : "dead";
      return `fail ${n?.name}`;
    }
    case 2: {
      const n = pick();
      if (n && n.state !== "left") n.state = "alive";
      return `recover ${n?.name}`;
    }
    case 3: {
      const n = pick();
      if (n) n.state = "left";
      return `leave ${n?.name}`;
    }
    case 4: {
      const n = pick();
      if (n && n.state !== "left") {
        n.rpcAddr = `${n.name}-${w.next++}:6868`;
        n.state = "alive";
      }
      return `move ${n?.name}`;
    }
    case 5: {
      // A wiped data dir: same name, new id (gossip keeps one record per name).
      const n = pick();
      if (n && n.state !== "left") {
        n.id = `id-${n.name}-${w.next++}`;
        n.state = "alive";
      }
      return `wipe ${n?.name}`;
    }
    default: {
      const ms = prng.int(1, 4) * 4_000;
      for (const s of w.servers) if (!up(w, s.id)) w.down[s.id] = (w.down[s.id] ?? 0) + ms;
      return `wait ${ms}`;
    }
  }
}

const hasQuorum = (w: World) =>
  w.servers.filter((s) => s.voter && up(w, s.id)).length >=
    quorumOf(w.servers.filter((s) => s.voter).length);

/** Checks one reconcile output against the safety rules, simulating its actions in order. */
function checkActions(w: World, history: string[]): void {
  const r = reconcile({
    selfId: "id-s0",
    region: "global",
    members: members(w),
    servers: w.servers,
    commitIndex: 100,
    downForMs: w.down,
    failedServerGraceMs: grace,
  });
  // The message is built only on a failure: building it per check made the test slow.
  const check = (ok: boolean, rule: string) => {
    if (!ok) {
      throw new Error(`${rule}: ${JSON.stringify(r.actions)} after ${history.join(", ")}`);
    }
  };
  let voters = w.servers.filter((s) => s.voter).length;
  const alive = w.servers.filter((s) => s.voter && up(w, s.id)).length;
  const seen = new Set<string>();
  for (const a of r.actions) {
    if (a.type !== "updateAddress") {
      check(!seen.has(a.id), "two membership actions for one id");
      seen.add(a.id);
    }
    const s = w.servers.find((x) => x.id === a.id);
    switch (a.type) {
      case "remove": {
        check(a.id !== "id-s0", "the leader removes itself");
        check(!up(w, a.id), "an alive server is removed");
        const n = w.nodes.find((x) => x.id === a.id);
        const replaced = w.nodes.some((x) =>
          x.id !== a.id && up(w, x.id) && (x.name === s?.name || x.rpcAddr === s?.address)
        );
        if (n?.state !== "left" && !replaced) {
          check((w.down[a.id] ?? 0) >= grace, "a failed server is removed within its grace period");
        }
        if (s?.voter) {
          voters--;
          check(alive >= quorumOf(voters), "a removal leaves the alive voters short of a quorum");
        }
        break;
      }
      case "addLearner":
        check(s === undefined && up(w, a.id), "a known or down server is added");
        break;
      case "promote":
        check(s?.voter === false && up(w, a.id), "a voter or a down learner is promoted");
        break;
      case "updateAddress":
        check(up(w, a.id), "a down server's address is updated");
        break;
    }
  }
  // Apply the first action only, as the glue does, and only if the leader could commit it.
  const a = r.actions[0];
  if (a !== undefined && hasQuorum(w)) {
    history.push(`${a.type} ${a.id}`);
    switch (a.type) {
      case "remove":
        w.servers = w.servers.filter((s) => s.id !== a.id);
        delete w.down[a.id];
        break;
      case "addLearner":
        w.servers.push({ id: a.id, address: a.address, voter: false, match: 100, name: a.name });
        break;
      case "promote":
        w.servers = w.servers.map((s) => (s.id === a.id ? { ...s, voter: true } : s));
        break;
      case "updateAddress":
        w.servers = w.servers.map((s) => (s.id === a.id ? { ...s, address: a.address } : s));
        break;
    }
  }
}

describe("reconcile over random histories", () => {
  test(
    "safety rules hold at every step, and a quiet cluster converges to its alive servers",
    () => {
      let converged = 0;
      for (let seed = 1; seed <= 300; seed++) {
        const prng = new Prng(seed);
        const w: World = { nodes: [], servers: [], down: {}, next: 3 };
        for (const name of ["s0", "s1", "s2"]) {
          w.nodes.push({ name, id: `id-${name}`, state: "alive", rpcAddr: `${name}:6868` });
          w.servers.push({
            id: `id-${name}`,
            address: `${name}:6868`,
            voter: true,
            match: 100,
            name,
          });
        }
        const history: string[] = [`seed ${seed}`];
        for (let i = 0; i < 60; i++) {
          history.push(step(w, prng));
          checkActions(w, history);
        }
        // Quiet: everyone not left comes back; reconcile must settle on exactly them as voters,
        // unless the history lost the quorum (then only peers.json recovery helps).
        for (const n of w.nodes) if (n.state !== "left") n.state = "alive";
        if (!hasQuorum(w)) continue;
        converged++;
        for (let i = 0; i < 40; i++) {
          // Time passes too: servers gone for good leave after the grace period.
          for (const sv of w.servers) {
            if (!up(w, sv.id)) {
              w.down[sv.id] = (w.down[sv.id] ?? 0) + grace;
            }
          }
          checkActions(w, history);
        }
        const want = w.nodes.filter((n) => n.state === "alive").map((n) => n.id).sort();
        const got = w.servers.filter((s) => s.voter).map((s) => s.id).sort();
        expect({ got, learners: w.servers.filter((s) => !s.voter).length, seed }).toEqual({
          got: want,
          learners: 0,
          seed,
        });
      }
      // The histories must mostly keep a quorum, or the convergence check proves little.
      expect(converged).toBeGreaterThan(100);
    },
    60_000,
  );
});
