// Proves, under the deterministic gossip simulator, that the SWIM + Lifeguard core meets its
// checks over many seeds (crash detection within the profile bound, no live node declared dead
// while its pauses stay under the suspicion minimum, convergence after a heal, tag
// dissemination), that runs replay exactly from their seed, and that the checkers do fail
// on a deliberately broken core.
import { describe, expect, test } from "bun:test";
import { defaultOptions, runGossipSim } from "./gossip.ts";

describe("gossip simulator", () => {
  test(
    "32 seeds of crash, pause, partition and mixed scenarios (N = 5 and 20, lan) report no violations",
    () => {
      const failures: string[] = [];
      for (let seed = 1; seed <= 32; seed++) {
        const r = runGossipSim(defaultOptions(seed));
        for (const v of r.violations) failures.push(`seed ${seed}: ${v}`);
      }
      expect(failures).toEqual([]);
    },
    60_000,
  );

  test(
    "the fast profile detects a crash on all 5 nodes and disseminates tags with no violations",
    () => {
      const failures: string[] = [];
      for (let seed = 100; seed < 112; seed++) {
        const r = runGossipSim(
          defaultOptions(seed, { profile: "fast", nodes: 5, scenario: "mixed" }),
        );
        for (const v of r.violations) failures.push(`seed ${seed}: ${v}`);
        expect(r.detectMs.length).toBe(1);
      }
      expect(failures).toEqual([]);
    },
    30_000,
  );

  test(
    "key rotation (install → use → remove) over 16 seeds, N = 5 and 20, with loss and a pausing node: every step acknowledged by every live member, no false dead",
    () => {
      const failures: string[] = [];
      for (let seed = 1; seed <= 16; seed++) {
        const r = runGossipSim(defaultOptions(seed, { scenario: "rotation", durationMs: 40_000 }));
        for (const v of r.violations) failures.push(`seed ${seed}: ${v}`);
        expect(r.rotationMs.length).toBe(3);
        expect(r.falseDead).toBe(0);
      }
      expect(failures).toEqual([]);
    },
    60_000,
  );

  test("the rotation checker reports a member that never answers keyring queries", () => {
    const r = runGossipSim(
      defaultOptions(2, { scenario: "rotation", durationMs: 40_000, silentKeyringNode: true }),
    );
    expect(r.violations.join("\n")).toMatch(/rotation install acknowledged by 4 of 5/);
  }, 30_000);

  test("a run replays exactly from its seed (same trace hash twice)", () => {
    const a = runGossipSim(defaultOptions(7));
    const b = runGossipSim(defaultOptions(7));
    expect(a.traceHash).toBe(b.traceHash);
    expect(a.detectMs).toEqual(b.detectMs);
    expect(runGossipSim(defaultOptions(8)).traceHash).not.toBe(a.traceHash);
  }, 30_000);

  test(
    "a core whose suspicion ignores a higher incarnation is reported as declaring live nodes dead",
    () => {
      let violations = 0;
      for (let seed = 1; seed <= 4; seed++) {
        const r = runGossipSim(defaultOptions(seed, { scenario: "pause", bug: "ignoreRefute" }));
        violations += r.violations.length;
      }
      expect(violations).toBeGreaterThan(0);
    },
    30_000,
  );

  test("the crash checker reports a violation when no message is ever delivered (100 % loss)", () => {
    // Loss 100 %: no probe, suspect or dead message ever arrives, so no one can declare the crash.
    const r = runGossipSim(defaultOptions(4, { scenario: "crash", loss: 1 }));
    expect(r.violations.some((v) => v.includes("not detected"))).toBe(true);
  });
});
