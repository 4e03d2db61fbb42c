// Proves, with real processes on 127.0.0.1 (durable raft.db, Connect transport), that no
// acknowledged write is lost when the leader of a 3- and a 5-node KV cluster is killed with
// SIGKILL and restarted repeatedly (all acknowledged keys are read back linearizably through
// ReadIndex at the end), and that a single writer process killed with SIGKILL at random points
// loses no acknowledged entry. Polls with deadlines; never sleeps to wait for a condition.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fastProfile, KvCluster } from "../bench/raft_cluster.ts";
import { Prng } from "../src/lib/mod.ts";

const dirs: string[] = [];
const clusters: KvCluster[] = [];
afterAll(async () => {
  for (const c of clusters) await c.stopAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "raft-proc-"));
  dirs.push(d);
  return d;
}

async function leaderKillLoop(
  size: number,
  kills: number,
): Promise<{ acked: Map<string, string>; kills: number }> {
  const c = await KvCluster.start(size, tmp(), fastProfile);
  clusters.push(c);
  const acked = new Map<string, string>();
  let seq = 0;
  const writeSome = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const key = `k${seq}`;
      const value = `v${seq++}`;
      await c.put(key, value);
      acked.set(key, value);
    }
  };
  await c.waitLeader();
  await writeSome(10);
  for (let k = 0; k < kills; k++) {
    const leader = await c.waitLeader();
    // Writes in flight while the leader dies: the acknowledged ones must survive.
    const inflight = Array.from({ length: 5 }, () => {
      const key = `k${seq}`;
      const value = `v${seq++}`;
      return c.put(key, value).then(() => acked.set(key, value), () => undefined);
    });
    await c.kill(leader);
    await Promise.all(inflight);
    await c.startNode(leader);
    await writeSome(5);
  }
  for (const [key, value] of acked) expect(`${key}=${await c.get(key)}`).toBe(`${key}=${value}`);
  await c.stopAll();
  return { acked, kills };
}

describe("raft KV processes", () => {
  test("3 nodes: kill -9 the leader 3 times, no acknowledged write is lost", async () => {
    const r = await leaderKillLoop(3, 3);
    expect(r.acked.size).toBeGreaterThanOrEqual(25);
  }, 120_000);

  test("5 nodes: kill -9 the leader 2 times, no acknowledged write is lost", async () => {
    const r = await leaderKillLoop(5, 2);
    expect(r.acked.size).toBeGreaterThanOrEqual(20);
  }, 120_000);

  test("single writer: 8 kill -9 points during writes lose no acknowledged entry", async () => {
    const c = await KvCluster.start(1, tmp(), fastProfile, ["--snapshot-every", "20"]);
    clusters.push(c);
    const node = c.nodes[0]!;
    const prng = new Prng(7);
    const acked = new Map<string, string>();
    let seq = 0;
    for (let crash = 0; crash < 8; crash++) {
      await c.waitLeader();
      let stop = false;
      const writer = (async () => {
        while (!stop) {
          const key = `k${seq}`;
          const value = `v${seq++}`;
          try {
            await node.client.put({ key, value }, { timeoutMs: 3_000 });
            acked.set(key, value);
          } catch {
            return; // the process died under us: this write's outcome is unknown
          }
        }
      })();
      // Let a random number of writes through, then SIGKILL mid-stream.
      const target = acked.size + prng.int(5, 40);
      const until = Date.now() + 10_000;
      while (acked.size < target && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      await c.kill(node);
      stop = true;
      await writer;
      await c.startNode(node);
    }
    await c.waitLeader();
    expect(acked.size).toBeGreaterThan(40);
    for (const [key, value] of acked) expect(`${key}=${await c.get(key)}`).toBe(`${key}=${value}`);
    await c.stopAll();
  }, 120_000);
});
