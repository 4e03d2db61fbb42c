// Proves the keyed heap pops in due order and supports replace and delete by key.
import { expect, test } from "bun:test";
import { Prng } from "../lib/mod.ts";
import { KeyedHeap } from "./heap.ts";

test("pops entries in due order after random sets, replaces and deletes", () => {
  const prng = new Prng(42);
  const heap = new KeyedHeap<{ key: string; dueMs: number }>();
  const model = new Map<string, number>();
  for (let i = 0; i < 5_000; i++) {
    const key = `k${prng.int(0, 500)}`;
    if (prng.next() < 0.2) {
      expect(heap.delete(key)).toBe(model.delete(key));
    } else {
      const dueMs = prng.int(0, 10_000);
      heap.set({ key, dueMs });
      model.set(key, dueMs);
    }
  }
  expect(heap.size).toBe(model.size);
  const popped: number[] = [];
  for (let e = heap.popDue(Infinity); e; e = heap.popDue(Infinity)) {
    expect(model.get(e.key)).toBe(e.dueMs);
    popped.push(e.dueMs);
  }
  expect(popped.length).toBe(model.size);
  expect(popped).toEqual([...popped].sort((a, b) => a - b));
});

test("popDue returns nothing before the earliest due time", () => {
  const heap = new KeyedHeap<{ key: string; dueMs: number }>();
  heap.set({ key: "a", dueMs: 100 });
  expect(heap.popDue(99)).toBeUndefined();
  expect(heap.popDue(100)?.key).toBe("a");
});
