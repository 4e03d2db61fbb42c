/**
 * Gossip figures from the deterministic simulator (no timing of this machine involved):
 *  1. crash → failed on all 5 nodes, p50/p99, lan and fast profiles (1 % loss, 1–20 ms delay);
 *  2. false "failed" declarations in simulated hours with 2 % loss and one paused node
 *     (pauses ≤ 2 s, below the suspicion minimum) or one slow node (every message handled
 *     up to 2 s late), Lifeguard on vs off;
 *  3. tag change → seen by all 5 nodes, p50/p99;
 *  4. bytes/s sent per node at steady state (encoded, before encryption).
 * Usage: bun run bench/gossip_sim.ts [--crash-seeds 200] [--hours 2]
 */
import { parseArgs } from "node:util";
import { defaultOptions, percentile, runGossipSim } from "../test/sim/gossip.ts";

const { values } = parseArgs({
  options: {
    "crash-seeds": { type: "string", default: "200" },
    hours: { type: "string", default: "2" },
  },
});
const crashSeeds = Number(values["crash-seeds"]);
const hours = Number(values.hours);

for (const profile of ["lan", "fast"] as const) {
  const detect: number[] = [];
  const dissem: number[] = [];
  const bytes: number[] = [];
  let violations = 0;
  for (let s = 1; s <= crashSeeds; s++) {
    const r = runGossipSim(
      defaultOptions(s, { profile, nodes: 5, scenario: "crash", durationMs: 80_000, loss: 0.01 }),
    );
    detect.push(...r.detectMs);
    dissem.push(...r.disseminateMs);
    bytes.push(r.bytesPerNodeSec);
    violations += r.violations.length;
  }
  console.log(
    `sim profile=${profile} nodes=5 crash_trials=${detect.length} detect_all_p50_ms=${
      percentile(detect, 50)
    } detect_all_p99_ms=${percentile(detect, 99)} detect_max_ms=${Math.max(...detect)} tag_p50_ms=${
      percentile(dissem, 50)
    } tag_p99_ms=${percentile(dissem, 99)} bytes_per_node_s_p50=${
      percentile(bytes, 50)
    } violations=${violations}`,
  );
}

for (const scenario of ["pause", "slow"] as const) {
  for (const lifeguard of [true, false]) {
    let falseDead = 0;
    for (let h = 0; h < hours; h++) {
      const r = runGossipSim(
        defaultOptions(1000 + h, {
          nodes: 5,
          profile: "lan",
          scenario,
          durationMs: 3_600_000,
          loss: 0.02,
          lifeguard,
        }),
      );
      falseDead += r.falseDead;
    }
    console.log(
      `sim profile=lan nodes=5 loss=2% ${scenario}_node=1 hours=${hours} lifeguard=${
        lifeguard ? "on" : "off"
      } false_dead=${falseDead}`,
    );
  }
}
