// Proves the simulated network is deterministic per seed and applies drops, cuts and delays.
import { expect, test } from "bun:test";
import { Prng } from "../../src/lib/mod.ts";
import { SimNet } from "./net.ts";

function trace(seed: number): string {
  const net = new SimNet<number>(new Prng(seed), {
    dropRate: 0.2,
    duplicateRate: 0.1,
    delayMin: 1,
    delayMax: 10,
  });
  const out: string[] = [];
  for (let t = 0; t < 50; t++) {
    net.send("a", "b", t, t);
    for (const m of net.deliverDue(t)) out.push(`${m.deliverAt}:${m.msg}`);
  }
  return out.join(",");
}

test("same seed gives the same delivery trace; another seed differs", () => {
  expect(trace(7)).toBe(trace(7));
  expect(trace(7)).not.toBe(trace(8));
});

test("a cut link drops messages one way only, heal restores it", () => {
  const net = new SimNet<string>(new Prng(1));
  net.cutOneWay("a", "b");
  net.send("a", "b", "x", 0);
  net.send("b", "a", "y", 0);
  expect(net.deliverDue(5).map((m) => m.msg)).toEqual(["y"]);
  net.heal();
  net.send("a", "b", "z", 5);
  expect(net.deliverDue(10).map((m) => m.msg)).toEqual(["z"]);
});

test("bridge partition keeps both sides connected to the bridge only", () => {
  const net = new SimNet<string>(new Prng(1));
  net.bridge(["a"], "c", ["b"]);
  expect(net.isCut("a", "b")).toBe(true);
  expect(net.isCut("a", "c")).toBe(false);
  expect(net.isCut("c", "b")).toBe(false);
});
