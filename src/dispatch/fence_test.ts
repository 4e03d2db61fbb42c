// Proves the worker's fence: launches from an older term are refused once a newer one was seen
// (a deposed leader), a re-dispatch of an accepted id is refused, the term never goes down,
// stops are fenced like launches, and the bounded id window never forgets an active id.
import { describe, expect, test } from "bun:test";
import { type Launch, WorkerFence } from "./fence.ts";

const launch = (term: number, id: string, job = "j"): Launch => ({ term, job, executionId: id });

describe("WorkerFence", () => {
  test("accepts a first launch and says what to persist before starting it", () => {
    const f = new WorkerFence();
    expect(f.admit(launch(3, "1-1-w"))).toEqual({
      kind: "accept",
      key: "j/1-1-w",
      write: { highestTerm: 3, add: [{ key: "j/1-1-w", term: 3 }], forget: [] },
    });
    expect(f.highestTerm).toBe(3);
    expect(f.counters.accepted).toBe(1);
  });

  test("refuses a deposed leader's launch after a newer term was seen", () => {
    const f = new WorkerFence();
    f.admit(launch(4, "1-1-w")); // the new leader, term 4
    const d = f.admit(launch(3, "2-1-w")); // the old leader wakes up from a pause
    expect(d).toEqual({ kind: "stale_term", key: "j/2-1-w", term: 3, highestTerm: 4 });
    expect(f.counters.fenced).toBe(1);
    expect(f.has("j/2-1-w")).toBe(false);
  });

  test("a newer term seen on the session alone fences the old leader", () => {
    const f = new WorkerFence();
    expect(f.observeTerm(7)).toBe(true);
    expect(f.observeTerm(7)).toBe(false); // nothing new to persist
    expect(f.admit(launch(6, "1-1-w")).kind).toBe("stale_term");
    expect(f.admit(launch(7, "1-1-w")).kind).toBe("accept");
  });

  test("refuses a re-dispatch of the same id, from the same or a newer leader", () => {
    const f = new WorkerFence();
    f.admit(launch(2, "5-1-w"));
    expect(f.admit(launch(2, "5-1-w"))).toEqual({
      kind: "duplicate",
      key: "j/5-1-w",
      active: true,
      termRaised: false,
    });
    expect(f.admit(launch(9, "5-1-w")).kind).toBe("duplicate");
    expect(f.counters.duplicates).toBe(2);
    expect(f.admit(launch(9, "5-1-w", "other")).kind).toBe("accept"); // ids are per job
  });

  test("a refused launch of a newer term still raises the term (found by the model check)", () => {
    // Regression: a window_full (or duplicate) refusal used to leave the term where it was, so
    // the deposed leader's next launch was accepted after the worker had seen its successor.
    const f = new WorkerFence(undefined, 1);
    f.admit(launch(1, "a"));
    expect(f.admit(launch(2, "b"))).toMatchObject({ kind: "window_full", termRaised: true });
    expect(f.highestTerm).toBe(2);
    f.settle("j/a");
    expect(f.admit(launch(1, "c")).kind).toBe("stale_term");
    expect(f.admit(launch(3, "a"))).toMatchObject({ kind: "duplicate", termRaised: true });
    expect(f.highestTerm).toBe(3);
  });

  test("the highest term never goes down, whatever order launches arrive in", () => {
    const f = new WorkerFence();
    let high = 0;
    for (const t of [1, 5, 3, 5, 2, 8, 8, 1, 9, 4]) {
      f.admit(launch(t, `${t}-${high}-w`));
      high = Math.max(high, t);
      expect(f.highestTerm).toBe(high);
    }
  });

  test("stops from an older term are refused and counted; newer ones raise the term", () => {
    const f = new WorkerFence();
    f.admit(launch(5, "1-1-w"));
    expect(f.obeysStop(4)).toBe(false);
    expect(f.counters.fenced).toBe(1);
    expect(f.obeysStop(5)).toBe(true);
    expect(f.obeysStop(6)).toBe(true);
    expect(f.highestTerm).toBe(6);
  });

  test("bad input is refused with a message, never a crash", () => {
    const f = new WorkerFence();
    for (const bad of [launch(-1, "x"), launch(1.5, "x"), launch(NaN, "x"), launch(1, "")]) {
      expect(f.admit(bad).kind).toBe("invalid");
    }
    expect(f.admit({ term: "3" as unknown as number, job: "j", executionId: "x" }).kind).toBe(
      "invalid",
    );
    expect(f.highestTerm).toBe(0);
  });

  test("at the bound the oldest settled id is forgotten, never an active one", () => {
    const f = new WorkerFence(undefined, 3);
    f.admit(launch(1, "a"));
    f.admit(launch(1, "b"));
    f.admit(launch(1, "c"));
    expect(f.admit(launch(1, "d"))).toEqual({
      kind: "window_full",
      key: "j/d",
      active: 3,
      termRaised: false,
    });
    expect(f.counters.windowFull).toBe(1);
    f.settle("j/b");
    f.settle("j/a");
    const d = f.admit(launch(1, "d"));
    expect(d.kind === "accept" && d.write.forget).toEqual(["j/b"]); // settled first, forgotten first
    expect(f.has("j/b")).toBe(false);
    expect(f.has("j/a")).toBe(true);
    expect(f.admit(launch(1, "c")).kind).toBe("duplicate"); // active ids are still refused
  });

  test("a restarted worker keeps its term and its ids from the snapshot", () => {
    const f = new WorkerFence();
    f.admit(launch(4, "1-1-w"));
    f.admit(launch(4, "2-1-w"));
    f.settle("j/1-1-w");
    const g = new WorkerFence(structuredClone(f.snapshot()));
    expect(g.highestTerm).toBe(4);
    expect(g.admit(launch(3, "9-1-w")).kind).toBe("stale_term");
    expect(g.admit(launch(4, "1-1-w"))).toEqual({
      kind: "duplicate",
      key: "j/1-1-w",
      active: false,
      termRaised: false,
    });
    expect(g.activeKeys()).toEqual(["j/2-1-w"]);
  });
});
