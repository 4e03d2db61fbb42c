/**
 * Figures: (1) a follower that was down while N entries were committed catches up (log
 * replication: probe → replicate, batched appends); (2) a follower with an empty disk installs a
 * snapshot of ~M MB (chunked InstallSnapshot) and catches up. Both on a 3-node KV cluster on
 * 127.0.0.1; time = restart of the follower → its applied index reaches the leader's commit.
 * Usage: bun bench/raft_catchup.ts [--entries 100000] [--snapshot-mb 64] [--clients 128]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type ClusterNode, defaultProfile, KvCluster } from "./raft_cluster.ts";

const { values } = parseArgs({
  options: {
    entries: { type: "string", default: "100000" },
    "snapshot-mb": { type: "string", default: "64" },
    clients: { type: "string", default: "128" },
  },
});

async function writeMany(
  c: KvCluster,
  leader: ClusterNode,
  n: number,
  value: string,
  clients: number,
  prefix = "k",
) {
  let next = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < n) {
      const i = next++;
      for (;;) {
        try {
          await leader.client.put({ key: `${prefix}${i}`, value }, { timeoutMs: 30_000 });
          break;
        } catch {
          leader = await c.waitLeader();
        }
      }
    }
  }));
}

async function timeCatchUp(
  c: KvCluster,
  follower: ClusterNode,
  leader: ClusterNode,
): Promise<number> {
  const target = Number((await leader.client.status({})).commit);
  const t0 = performance.now();
  await c.startNode(follower);
  for (;;) {
    try {
      const s = await follower.client.status({}, { timeoutMs: 2_000 });
      if (Number(s.applied) >= target) return performance.now() - t0;
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

const clients = Number(values.clients);
{
  const n = Number(values.entries);
  const dir = mkdtempSync(join(tmpdir(), "raft-catchup-"));
  const c = await KvCluster.start(3, dir, defaultProfile);
  try {
    const leader = await c.waitLeader();
    const follower = c.nodes.find((x) => x !== leader) as ClusterNode;
    await c.kill(follower);
    const w0 = performance.now();
    await writeMany(c, leader, n, "v", clients);
    const writeS = (performance.now() - w0) / 1000;
    const ms = await timeCatchUp(c, follower, leader);
    console.log(
      `raft-catchup entries=${n} catch_up=${(ms / 1000).toFixed(2)}s (written in ${
        writeS.toFixed(1)
      }s) ` +
        `load=${loadavg()[0]?.toFixed(1)}`,
    );
  } finally {
    await c.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}
{
  const mb = Number(values["snapshot-mb"]);
  const dir = mkdtempSync(join(tmpdir(), "raft-snap-"));
  const c = await KvCluster.start(3, dir, defaultProfile, [
    "--snapshot-every",
    "16",
    "--trailing",
    "4",
  ]);
  try {
    const leader = await c.waitLeader();
    const follower = c.nodes.find((x) => x !== leader) as ClusterNode;
    await c.kill(follower);
    rmSync(follower.dir, { recursive: true, force: true });
    const value = "s".repeat(1 << 20);
    await writeMany(c, leader, mb, value, 4);
    // A few more small writes so the leader's snapshot covers all the big ones.
    await writeMany(c, leader, 40, "t", 4, "small");
    const ms = await timeCatchUp(c, follower, leader);
    const installed = follower.events.filter((e) => e.ev === "snapshot") as Array<
      { bytes?: number }
    >;
    const bytes = installed.reduce((sum, e) => sum + (e.bytes ?? 0), 0);
    console.log(
      `raft-snapshot-install state≈${mb}MB installed=${installed.length} snapshot(s) of ` +
        `${(bytes / 1048576).toFixed(1)} MiB catch_up=${(ms / 1000).toFixed(2)}s ` +
        `load=${loadavg()[0]?.toFixed(1)}`,
    );
  } finally {
    await c.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}
process.exit(0);
