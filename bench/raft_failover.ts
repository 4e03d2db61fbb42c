/**
 * Figure: leader kill -9 → new leader elected (by a majority vote), p50/p99 over N trials.
 * Each trial kills the current leader with SIGKILL, times the first "became leader" event of a
 * higher term on a survivor (both sides stamp epoch ms from the same machine clock), then
 * restarts the killed node.
 * Usage: bun bench/raft_failover.ts --nodes 3 --trials 100 --profile default|fast
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { defaultProfile, fastProfile, KvCluster, percentile } from "./raft_cluster.ts";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "3" },
    trials: { type: "string", default: "100" },
    profile: { type: "string", default: "default" },
  },
});
const size = Number(values.nodes);
const trials = Number(values.trials);
const profile = values.profile === "fast" ? fastProfile : defaultProfile;
const dir = mkdtempSync(join(tmpdir(), "raft-failover-"));
const c = await KvCluster.start(size, dir, profile);
const samples: number[] = [];
try {
  await c.waitLeader();
  await c.put("warm", "up");
  for (let t = 0; t < trials; t++) {
    const leader = await c.waitLeader();
    const status = await leader.client.status({});
    const oldTerm = Number(status.term);
    const marks = new Map(c.nodes.map((n) => [n.id, n.events.length]));
    const killedAt = await c.kill(leader);
    const until = Date.now() + 30_000;
    let electedAt: number | undefined;
    while (electedAt === undefined && Date.now() < until) {
      for (const n of c.live()) {
        for (const e of n.events.slice(marks.get(n.id) ?? 0)) {
          if (e.ev === "role" && e.role === "leader" && (e.term ?? 0) > oldTerm) {
            electedAt = Math.min(electedAt ?? Infinity, e.ms);
          }
        }
      }
      if (electedAt === undefined) await new Promise((r) => setTimeout(r, 10));
    }
    if (electedAt === undefined) throw new Error(`trial ${t}: no new leader within 30 s`);
    samples.push(electedAt - killedAt);
    await c.startNode(leader);
  }
} finally {
  await c.stopAll();
  rmSync(dir, { recursive: true, force: true });
}
const f = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
console.log(
  `raft-failover nodes=${size} profile=${values.profile} (tick ${profile.tickMs} ms, election ` +
    `${profile.electionTicks * profile.tickMs} ms) trials=${samples.length} p50=${
      f(percentile(samples, 50))
    } ` +
    `p90=${f(percentile(samples, 90))} p99=${f(percentile(samples, 99))} max=${
      f(Math.max(...samples))
    } ` +
    `min=${f(Math.min(...samples))}`,
);
process.exit(0);
