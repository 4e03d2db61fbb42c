// Proves the shell's fixed order persist → send → apply → advance on three in-process RaftNodes
// wired by an in-memory transport: no message leaves a node with a term, vote or log suffix that
// is not yet durable on it, and a write is acknowledged only once a majority has it durable.
// Polls with a deadline (ticks run on real timers); never asserts on timing.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LogStore, Transport } from "../src/consensus/mod.ts";
import type { Entry, HardState, Message, Snapshot } from "../src/raft/mod.ts";
import { KvNode } from "./fixtures/kv_app.ts";

const snapRoot = mkdtempSync(join(tmpdir(), "raft-shell-"));

interface Durable {
  hardState: HardState;
  snapshot: Snapshot | undefined;
  entries: Entry[];
}

const problems: string[] = [];
const nodes = new Map<string, KvNode>();
const durable = new Map<string, Durable>();

class MemStore implements LogStore {
  constructor(readonly id: string) {
    durable.set(id, {
      hardState: { term: 0, vote: "", commit: 0 },
      snapshot: undefined,
      entries: [],
    });
  }
  load() {
    const d = durable.get(this.id) as Durable;
    return { hardState: d.hardState, snapshot: d.snapshot, entries: [...d.entries] };
  }
  save(b: Parameters<LogStore["save"]>[0]): void {
    const d = durable.get(this.id) as Durable;
    if (b.snapshot) {
      d.snapshot = b.snapshot;
      d.entries = [];
    }
    if (b.compaction) {
      d.snapshot = b.compaction.snapshot;
      d.entries = d.entries.filter((e) => e.index > b.compaction!.compactTo);
    }
    if (b.entries.length > 0) {
      const first = (b.entries[0] as Entry).index;
      d.entries = d.entries.filter((e) => e.index < first).concat(b.entries);
    }
    if (b.hardState) d.hardState = b.hardState;
  }
}

/** A broken store: each batch becomes durable only when the next one is saved (a lazy fsync). */
class LazyStore extends MemStore {
  #pending: Parameters<LogStore["save"]>[0] | undefined;
  #saves = 0;
  override save(b: Parameters<LogStore["save"]>[0]): void {
    // The bootstrap write is durable, so the cluster can start at all.
    if (this.#saves++ === 0) return super.save(b);
    if (this.#pending) super.save(this.#pending);
    this.#pending = b;
  }
}

/** Checks each message against the sender's durable state at the moment it is sent. */
class CheckingTransport implements Transport {
  constructor(readonly from: string) {}
  send(to: string, messages: readonly Message[]): void {
    const d = durable.get(this.from) as Durable;
    for (const m of messages) {
      if (m.type !== "preVote" && m.type !== "preVoteResp" && m.term > d.hardState.term) {
        problems.push(
          `${this.from} sent ${m.type} in term ${m.term} with durable term ${d.hardState.term}`,
        );
      }
      if (m.type === "voteResp" && !m.reject && d.hardState.vote !== m.to) {
        problems.push(`${this.from} granted a vote to ${m.to} before persisting it`);
      }
      if (m.type === "appResp" && !m.reject) {
        const last = d.entries[d.entries.length - 1]?.index ?? d.snapshot?.meta.index ?? 0;
        if (m.index > last) {
          problems.push(`${this.from} acked ${m.index} with durable last ${last}`);
        }
      }
      if (m.type === "app") {
        const last = d.entries[d.entries.length - 1]?.index ?? 0;
        for (const e of m.entries) {
          if (e.index > last) {
            problems.push(`${this.from} (leader) sent ${e.index} before persisting it`);
          }
        }
      }
    }
    // Deliver asynchronously, as a network would.
    setTimeout(() => nodes.get(to)?.receive(messages), 0);
  }
}

afterAll(() => rmSync(snapRoot, { recursive: true, force: true }));
afterEach(() => {
  for (const n of nodes.values()) n.stop();
  nodes.clear();
  durable.clear();
  problems.length = 0;
});

async function waitFor<T>(what: string, f: () => T | undefined, deadlineMs = 10_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function startCluster(ids: string[], lazy = false): void {
  for (const [i, id] of ids.entries()) {
    const n = new KvNode({
      id,
      snapshotDir: join(snapRoot, `${id}-${Math.random()}`),
      store: lazy ? new LazyStore(id) : new MemStore(id),
      transport: new CheckingTransport(id),
      tickMs: 5,
      electionTicks: 10,
      heartbeatTicks: 1,
      seed: 1000 + i,
      bootstrap: { voters: ids, learners: [] },
      snapshotEvery: 8,
      trailingEntries: 2,
    });
    nodes.set(id, n);
    n.start();
  }
}

const leaderOf = () => [...nodes.values()].find((n) => n.status().role === "leader");

describe("Raft shell", () => {
  test("persists before it sends, and acknowledges a write only once a majority holds it", async () => {
    startCluster(["n1", "n2", "n3"]);
    const leader = await waitFor("a leader", leaderOf);
    for (let i = 0; i < 20; i++) {
      const index = await leader.put(`k${i}`, `v${i}`);
      const holders = [...durable.values()].filter((d) =>
        d.entries.some((e) =>
          e.index === index
        ) ||
        (d.snapshot?.meta.index ?? 0) >= index
      ).length;
      expect(holders).toBeGreaterThanOrEqual(2);
    }
    expect(await leader.get("k7")).toBe("v7");
    expect(problems).toEqual([]);
  });

  test("a follower serves a linearizable read through the leader", async () => {
    startCluster(["n1", "n2", "n3"]);
    const leader = await waitFor("a leader", leaderOf);
    await leader.put("x", "1");
    const follower = [...nodes.values()].find((n) => n !== leader) as KvNode;
    expect(await follower.get("x")).toBe("1");
    expect(problems).toEqual([]);
  });

  test("a write refused on a follower names the leader", async () => {
    startCluster(["n1", "n2", "n3"]);
    const leader = await waitFor("a leader", leaderOf);
    const follower = [...nodes.values()].find((n) => n !== leader) as KvNode;
    await waitFor("the follower to know the leader", () => follower.status().leader || undefined);
    let hint = "";
    await follower.put("y", "2").catch((e: { kind?: string; leaderHint?: string }) => {
      hint = `${e.kind}:${e.leaderHint}`;
    });
    expect(hint).toBe(`not_leader:${leader.id}`);
  });

  test("the order check catches a store that is not durable when save() returns", async () => {
    startCluster(["n1", "n2", "n3"], true);
    await waitFor("a reported ordering problem", () => (problems.length > 0 ? true : undefined));
    expect(problems.join("\n")).toMatch(/before persisting|with durable/);
  });
});
