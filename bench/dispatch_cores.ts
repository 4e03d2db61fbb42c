/**
 * Cost of issue 9's pure decision cores per call, in-process: target selection over a cluster
 * of members, the worker fence at a full id window, a leader heartbeat listing many running
 * executions, the outbox at its bound. The goal they serve is 1,000 launches/s on one leader,
 * so each must stay far below 1 ms. Prints p50/p99 µs and calls/s.
 * Usage: bun bench/dispatch_cores.ts [--n 20000] [--members 200]
 */
import { parseArgs } from "node:util";
import { limits, Prng } from "../src/lib/mod.ts";
import { type NodeLoad, selectTargets, type TargetMember } from "../src/scheduler/mod.ts";
import { FinishOutbox, LeaseTable, WorkerFence } from "../src/dispatch/mod.ts";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "20000" },
    members: { type: "string", default: "200" },
  },
});
const n = Number(values.n);
const memberCount = Number(values.members);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}

function measure(name: string, fn: (i: number) => void): void {
  const samples: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const a = performance.now();
    fn(i);
    samples.push((performance.now() - a) * 1000);
  }
  const rate = n / ((performance.now() - t0) / 1000);
  console.log(
    `${name.padEnd(44)} | ${pct(samples, 50).toFixed(1).padStart(7)} | ${
      pct(samples, 99).toFixed(1).padStart(7)
    } | ${Math.round(rate).toString().padStart(9)}`,
  );
}

console.log(`n=${n}, members=${memberCount}`);
console.log(`${"call".padEnd(44)} |  p50 µs |  p99 µs |   calls/s`);

const members: TargetMember[] = Array.from({ length: memberCount }, (_, i) => ({
  name: `node-${i}`,
  state: "alive",
  tags: { region: "global", role: i % 2 === 0 ? "web" : "batch", dc: `dc${i % 3}` },
}));
const load = new Map<string, NodeLoad>(
  members.map((m, i) => [m.name, { running: i % 7, capacity: 10 }]),
);
const prng = new Prng(1);
measure(`selectTargets untagged (${memberCount} members)`, () => {
  selectTargets({ jobName: "j", tags: null, members, region: "global", load, prng });
});
measure(`selectTargets {role: web:2, dc: dc1}`, () => {
  selectTargets({
    jobName: "j",
    tags: { role: "web:2", dc: "dc1" },
    members,
    region: "global",
    load,
    prng,
  });
});

// A fence whose window is full of settled ids: every accept forgets one.
const fence = new WorkerFence();
let seq = 0;
for (let i = 0; i < limits.fenceAcceptedIdsMax; i++) {
  fence.admit({ term: 1, seq: ++seq, job: "j", executionId: `pre-${i}` });
  fence.settle(`j/pre-${i}`, { term: 1, seq: ++seq });
}
measure(`fence.admit + settle (window ${limits.fenceAcceptedIdsMax}, full)`, (i) => {
  fence.admit({ term: 1, seq: ++seq, job: "j", executionId: `x-${i}` });
  fence.settle(`j/x-${i}`, { term: 1, seq: ++seq });
});

// A leader with 1,000 running executions on 10 workers; each heartbeat lists 100.
const leases = new LeaseTable();
const held = new Map<string, string[]>();
for (let i = 0; i < 1_000; i++) {
  const node = `w${i % 10}`;
  leases.grant({ job: "j", executionId: `${i}-1-${node}`, node }, 0);
  held.set(node, [...(held.get(node) ?? []), `j/${i}-1-${node}`]);
}
measure("leases.heartbeat (100 held, 1,000 leased)", (i) => {
  const node = `w${i % 10}`;
  leases.heartbeat(node, held.get(node) as string[], i, () => undefined);
});
measure("leases.expired (1,000 leased, none due)", (i) => {
  leases.expired(i);
});

const outbox = new FinishOutbox();
measure(`outbox.enqueue + due + applied`, (i) => {
  outbox.enqueue({
    job: "j",
    executionId: `${i}-1-w`,
    node: "w",
    status: "success",
    exitCode: 0,
    startedAtMs: 0,
    finishedAtMs: 1,
    outputSize: 0,
    outputTail: "",
    reason: "",
  });
  outbox.due(1, i);
  outbox.applied(`j/${i}-1-w`);
});
