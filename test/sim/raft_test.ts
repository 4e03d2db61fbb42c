// Proves the Raft simulator's guarantees: a time-bounded run of ≥ 300 seeds (faults: delay, drop,
// duplicate, reorder, partitions, crashes with lost or torn writes, pauses, membership changes)
// finds no invariant violation, every client history is linearizable and every liveness phase
// commits; the same seed gives the same trace hash; and deliberately broken variants (vote
// without the log check, vote not fsynced) are reported as violations within a bounded number
// of seeds, so the checkers can fail.
import { describe, expect, test } from "bun:test";
import { runSeed } from "./raft.ts";

/** Sized for a shared 2-core CI box: about 12 s here (see `bun run test/sim/raft.ts`). */
const ciSeeds = 300;
const ciSteps = 8_000;

describe("raft simulator", () => {
  test(
    `${ciSeeds} seeds of faults: no safety violation, linearizable histories, live after healing`,
    () => {
      const failed: string[] = [];
      let notLinearizable = 0;
      let ops = 0;
      for (let seed = 1; seed <= ciSeeds; seed++) {
        const r = runSeed(seed, { steps: ciSteps });
        ops += r.ops;
        if (r.linearizable !== "ok") notLinearizable++;
        if (r.violations.length > 0) failed.push(`seed ${seed}: ${r.violations.join("; ")}`);
      }
      expect(failed).toEqual([]);
      expect(notLinearizable).toBe(0);
      // The workload is real: clients completed many operations overall.
      expect(ops).toBeGreaterThan(ciSeeds * 50);
    },
    240_000,
  );

  test(
    "snapshots as files (descriptor in Raft, file streamed, torn transfers): 100 seeds clean",
    () => {
      const failed: string[] = [];
      let notLinearizable = 0;
      for (let seed = 1; seed <= 100; seed++) {
        const r = runSeed(seed, { steps: 4_000, snapshotFiles: true });
        if (r.linearizable !== "ok") notLinearizable++;
        if (r.violations.length > 0) failed.push(`seed ${seed}: ${r.violations.join("; ")}`);
      }
      expect(failed).toEqual([]);
      expect(notLinearizable).toBe(0);
    },
    120_000,
  );

  test("a shell that deletes the snapshot file Raft still references is caught", () => {
    let caught = "";
    for (let seed = 1; seed <= 30 && caught === ""; seed++) {
      const r = runSeed(seed, { steps: 3_000, snapshotFiles: true, pruneAllSnapshotFiles: true });
      if (r.violations.length > 0) caught = r.violations.join("; ");
    }
    expect(caught).toMatch(/snapshot references missing file/);
  });

  test("the same seed replays to the same trace hash", () => {
    for (const seed of [3, 17, 42]) {
      const a = runSeed(seed, { steps: 3_000 });
      const b = runSeed(seed, { steps: 3_000 });
      expect(a.traceHash).toBe(b.traceHash);
      expect(a.ops).toBe(b.ops);
    }
    expect(runSeed(3, { steps: 3_000 }).traceHash).not.toBe(runSeed(4, { steps: 3_000 }).traceHash);
  });

  test("granting votes without the up-to-date check is caught within 30 seeds", () => {
    let caught = "";
    for (let seed = 1; seed <= 30 && caught === ""; seed++) {
      const r = runSeed(seed, { steps: 3_000, broken: { voteWithoutLogCheck: true } });
      if (r.violations.length > 0) caught = r.violations.join("; ");
    }
    expect(caught).toMatch(/leader completeness|state machine safety|log matching|committed/);
  });

  test("a shell that does not fsync its vote is caught within 300 seeds", () => {
    let caught = "";
    for (let seed = 1; seed <= 300 && caught === ""; seed++) {
      const r = runSeed(seed, { steps: 3_000, voteNotSynced: true });
      if (r.violations.length > 0) caught = r.violations.join("; ");
    }
    expect(caught).toMatch(/voted for .* and .* in term/);
  });

  test("serving reads from local state without ReadIndex is caught by the linearizability checker", () => {
    let caught = 0;
    for (let seed = 1; seed <= 50 && caught === 0; seed++) {
      const r = runSeed(seed, { steps: 3_000, staleReads: true });
      if (r.linearizable === "illegal") caught = seed;
    }
    expect(caught).toBeGreaterThan(0);
  });
});
