// Proves execution ids are deterministic, unique per (slot, attempt, node), extend today's
// `<slot>-<attempt>` ids, and parse back even for node names holding '-' or digits.
import { expect, test } from "bun:test";
import { executionId } from "../state/mod.ts";
import { Prng } from "../lib/mod.ts";
import { launchKey, parseExecutionId, targetExecutionId } from "./ids.ts";

test("an id is today's <slot>-<attempt> id plus the node", () => {
  expect(targetExecutionId(1_700_000_000_000, 1, "w1")).toBe(
    `${executionId(1_700_000_000_000, 1)}-w1`,
  );
});

test("the same (slot, attempt, node) always gives the same id", () => {
  expect(targetExecutionId(5, 2, "n")).toBe(targetExecutionId(5, 2, "n"));
});

test("ids are unique over slots, attempts and node names, including confusable ones", () => {
  const prng = new Prng(3);
  const nodes = ["a", "a-1", "1", "1-a", "a.b", "a_b", "10", "0-0"];
  const seen = new Map<string, string>();
  for (let i = 0; i < 3_000; i++) {
    const slot = prng.int(0, 30);
    const attempt = prng.int(1, 12);
    const node = nodes[prng.int(0, nodes.length)] as string;
    const tuple = `${slot}|${attempt}|${node}`;
    const id = targetExecutionId(slot, attempt, node);
    const before = seen.get(id);
    expect(before === undefined || before === tuple).toBe(true);
    seen.set(id, tuple);
    expect(parseExecutionId(id)).toEqual({ slotMs: slot, attempt, node });
  }
});

test("ids recorded before per-target executions still parse, with no node", () => {
  expect(parseExecutionId("1700000000000-3")).toEqual({
    slotMs: 1_700_000_000_000,
    attempt: 3,
    node: null,
  });
});

test("text that is not a Tock id does not parse", () => {
  for (const bad of ["", "x", "1", "1-", "1-a", "-1-2", "1-2-", "1-2-/x", "1-2-a b"]) {
    expect(parseExecutionId(bad)).toBeUndefined();
  }
});

test("launch keys separate jobs whose execution ids are equal", () => {
  expect(launchKey("a", "1-1-w")).not.toBe(launchKey("b", "1-1-w"));
});
