/**
 * Figures: commit latency p50/p99 next to the fsync p50/p99 of the same disk in the same run,
 * and spurious elections under steady write load (no faults injected: any leader change after
 * the first election is spurious).
 * Usage: bun bench/raft_steady.ts [--seconds 600] [--profile fast|default] [--rate 200]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { defaultProfile, fastProfile, KvCluster, percentile } from "./raft_cluster.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "600" },
    profile: { type: "string", default: "fast" },
    rate: { type: "string", default: "200" },
  },
});
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const dir = mkdtempSync(join(tmpdir(), "raft-steady-"));

/** Milliseconds of one WAL + synchronous=FULL single-row commit (an fsync), n samples. */
function fsyncSamples(n: number): number[] {
  const db = new DatabaseSync(join(dir, "fsync.db"));
  db.exec("pragma journal_mode=WAL; pragma synchronous=FULL;");
  db.exec("create table if not exists t (i integer primary key, v blob) strict");
  const ins = db.prepare("insert or replace into t (i, v) values (?, ?)");
  const blob = new Uint8Array(256);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    db.exec("BEGIN IMMEDIATE");
    ins.run(i % 1000, blob);
    db.exec("COMMIT");
    out.push(performance.now() - t0);
  }
  db.close();
  return out;
}

const fsyncBefore = fsyncSamples(2000);
const profile = values.profile === "default" ? defaultProfile : fastProfile;
const c = await KvCluster.start(3, join(dir, "cluster"), profile);
const lat: number[] = [];
let failed = 0;
let firstTerm = 0;
try {
  const leader = await c.waitLeader();
  firstTerm = Number((await leader.client.status({})).term);
  const start = performance.now();
  const until = start + seconds * 1000;
  let i = 0;
  while (performance.now() < until) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    try {
      await c.put(`k${i % 10_000}`, `v${i}`);
      lat.push(performance.now() - t0);
    } catch {
      failed++;
    }
    i++;
  }
} finally {
  await c.stopAll();
}
const fsyncAfter = fsyncSamples(2000);
const fsync = [...fsyncBefore, ...fsyncAfter];
const elections = new Set<number>();
for (const n of c.nodes) {
  for (const e of n.events) {
    if (e.ev === "role" && e.role === "leader" && (e.term ?? 0) > firstTerm) {
      elections.add(e.term ?? 0);
    }
  }
}
rmSync(dir, { recursive: true, force: true });
const ms = (v: number) => `${v.toFixed(2)}ms`;
console.log(
  `raft-steady profile=${values.profile} seconds=${seconds} rate=${rate}/s writes=${lat.length} failed=${failed} ` +
    `commit_p50=${ms(percentile(lat, 50))} commit_p99=${ms(percentile(lat, 99))} ` +
    `fsync_p50=${ms(percentile(fsync, 50))} fsync_p99=${ms(percentile(fsync, 99))} ` +
    `spurious_elections=${elections.size}`,
);
process.exit(0);
