/**
 * Figure: crash consistency of the durable log. A single-node KV process is killed with SIGKILL
 * at random points while a client writes; after every restart and at the end, every
 * acknowledged write must be readable. Reports crash points, acknowledged writes and losses.
 * Usage: bun bench/raft_crash.ts [--crashes 200] [--seed 1]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Prng } from "../src/lib/mod.ts";
import { fastProfile, KvCluster } from "./raft_cluster.ts";

const { values } = parseArgs({
  options: { crashes: { type: "string", default: "200" }, seed: { type: "string", default: "1" } },
});
const crashes = Number(values.crashes);
const prng = new Prng(Number(values.seed));
const dir = mkdtempSync(join(tmpdir(), "raft-crash-"));
const c = await KvCluster.start(1, dir, fastProfile, [
  "--snapshot-every",
  "50",
  "--trailing",
  "10",
]);
const node = c.nodes[0]!;
const acked = new Map<string, string>();
let seq = 0;
let lost = 0;
let repaired = 0;
const t0 = performance.now();
try {
  for (let k = 0; k < crashes; k++) {
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
          return;
        }
      }
    })();
    const target = acked.size + prng.int(1, 30);
    const until = Date.now() + 10_000;
    while (acked.size < target && Date.now() < until) await new Promise((r) => setTimeout(r, 1));
    await c.kill(node);
    stop = true;
    await writer;
    await c.startNode(node);
    repaired += node.events.filter((e) => e.ev === "repaired").length;
    node.events.length = 0;
  }
  await c.waitLeader();
  for (const [key, value] of acked) if ((await c.get(key)) !== value) lost++;
} finally {
  await c.stopAll();
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  `raft-crash crash_points=${crashes} acked=${acked.size} lost=${lost} torn_tail_repairs=${repaired} ` +
    `seconds=${((performance.now() - t0) / 1000).toFixed(1)}`,
);
process.exit(lost > 0 ? 1 : 0);
