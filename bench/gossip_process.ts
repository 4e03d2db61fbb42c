/**
 * Gossip figures on real processes (5 nodes on 127.0.0.1, AES-GCM on), per profile:
 *  - kill -9 → "failed" reported by all 4 others, p50/p99 over the trials;
 *  - tag change → "update" seen by all 4 others, p50/p99;
 *  - bytes/s sent per node at steady state (UDP + TCP, encrypted, from the shell's counters);
 *  - SIGSTOP one node for 2 s, SIGCONT, watch 6 s: "failed" events about it (false deads).
 * Wall-clock figures from one shared 2-core machine: expect noise from other load.
 * Usage: bun run bench/gossip_process.ts [--trials 10] [--profiles lan,fast]
 */
import { parseArgs } from "node:util";
import { generateKey } from "../src/net/mod.ts";
import { percentile } from "../test/sim/gossip.ts";
import { aliveView, type NodeProc, startCluster, until } from "./gossip_cluster.ts";

const { values } = parseArgs({
  options: {
    trials: { type: "string", default: "10" },
    profiles: { type: "string", default: "lan,fast" },
  },
});
const trials = Number(values.trials);
const wall = () => performance.timeOrigin + performance.now();

async function statsOf(p: NodeProc): Promise<{ bytesOut: number; t: number }> {
  const before = p.lines.length;
  p.send("stats");
  await until(() => p.lines.slice(before).some((l) => l.type === "stats"), 5000, () => "no stats");
  const l = p.lines.slice(before).find((x) => x.type === "stats") as unknown as {
    shell: { bytesOut: number };
  };
  return { bytesOut: l.shell.bytesOut, t: wall() };
}

for (const profile of (values.profiles ?? "").split(",")) {
  const detect: number[] = [];
  const tags: number[] = [];
  const bytes: number[] = [];
  let falseDead = 0;
  for (let trial = 0; trial < trials; trial++) {
    const nodes = await startCluster(
      5,
      ["--profile", profile, "--key", generateKey()],
      `t${trial}n`,
    );
    try {
      await until(
        () => nodes.every((p) => aliveView(p).size === 5),
        20_000,
        () => "no convergence",
      );
      // Steady state: 3 s of traffic from one node.
      const probe = nodes[0] as NodeProc;
      const s0 = await statsOf(probe);
      await new Promise((r) => setTimeout(r, 3000));
      const s1 = await statsOf(probe);
      bytes.push(Math.round(((s1.bytesOut - s0.bytesOut) * 1000) / (s1.t - s0.t)));
      // Tag dissemination.
      const changer = nodes[1] as NodeProc;
      const tagAt = wall();
      changer.send(`tags trial=${trial}`);
      const watchers = nodes.filter((p) => p !== changer);
      const seenTag = (p: NodeProc) =>
        p.lines.find((l) => l.type === "update" && l.name === changer.name && (l.t ?? 0) >= tagAt);
      await until(() => watchers.every((p) => seenTag(p) !== undefined), 20_000, () => "tags");
      tags.push(Math.max(...watchers.map((p) => (seenTag(p)?.t ?? 0) - tagAt)));
      // SIGSTOP 2 s, then watch 6 s for anyone declaring the paused node failed.
      const paused = nodes[1] as NodeProc;
      const stopAt = wall();
      paused.signal("SIGSTOP");
      await new Promise((r) => setTimeout(r, 2000));
      paused.signal("SIGCONT");
      await new Promise((r) => setTimeout(r, 6000));
      falseDead += nodes.filter((p) => p.find("failed", paused.name, stopAt) !== undefined).length;
      // Crash detection.
      const victim = nodes[2 + (trial % 3)] as NodeProc;
      const others = nodes.filter((p) => p !== victim);
      const killedAt = wall();
      victim.signal("SIGKILL");
      await until(
        () => others.every((p) => p.find("failed", victim.name, killedAt) !== undefined),
        60_000,
        () => "crash not detected",
      );
      detect.push(
        Math.max(
          ...others.map((p) => (p.find("failed", victim.name, killedAt)?.t ?? 0) - killedAt),
        ),
      );
    } finally {
      for (const p of nodes) p.stop();
    }
  }
  const r = (xs: number[], p: number) => Math.round(percentile(xs, p));
  console.log(
    `process profile=${profile} nodes=5 trials=${trials} detect_all_p50_ms=${
      r(detect, 50)
    } detect_all_p99_ms=${r(detect, 99)} tag_p50_ms=${r(tags, 50)} tag_p99_ms=${
      r(tags, 99)
    } bytes_per_node_s_p50=${r(bytes, 50)} sigstop2s_false_dead=${falseDead}`,
  );
}
