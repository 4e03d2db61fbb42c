/**
 * Figure: proposals/s on a 3-node KV cluster on one box, with batching (every input of one
 * event-loop turn → one Ready → one fsync + one RPC per peer) and without, side by side.
 * Usage: bun bench/raft_throughput.ts [--seconds 10] [--clients 64] [--nodes 3]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { defaultProfile, KvCluster, percentile } from "./raft_cluster.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    clients: { type: "string", default: "64" },
    nodes: { type: "string", default: "3" },
  },
});
const seconds = Number(values.seconds);
const clients = Number(values.clients);

async function run(batch: boolean): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "raft-tput-"));
  const c = await KvCluster.start(
    Number(values.nodes),
    dir,
    defaultProfile,
    batch ? [] : ["--no-batch"],
  );
  try {
    const leader = await c.waitLeader();
    await c.put("warm", "up");
    const lat: number[] = [];
    let done = 0;
    let failed = 0;
    const until = performance.now() + seconds * 1000;
    const value = "x".repeat(100);
    await Promise.all(Array.from({ length: clients }, async (_, w) => {
      let i = 0;
      while (performance.now() < until) {
        const t0 = performance.now();
        try {
          await leader.client.put({ key: `w${w}-${i++}`, value }, { timeoutMs: 5_000 });
          lat.push(performance.now() - t0);
          done++;
        } catch {
          failed++;
        }
      }
    }));
    return `raft-throughput batch=${batch} nodes=${values.nodes} clients=${clients} seconds=${seconds} ` +
      `proposals/s=${(done / seconds).toFixed(0)} failed=${failed} latency_p50=${
        percentile(lat, 50).toFixed(2)
      }ms ` +
      `p99=${percentile(lat, 99).toFixed(2)}ms`;
  } finally {
    await c.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(await run(true));
console.log(await run(false));
process.exit(0);
