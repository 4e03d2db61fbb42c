// Proves the worker's fence: launches from an older term are refused once a newer one was seen
// (a deposed leader), a re-dispatch of an accepted id is refused, the term never goes down,
// stops are fenced like launches, and the bounded id window never forgets an active id.
import { describe, expect, test } from "bun:test";
import { type Launch, WorkerFence } from "./fence.ts";

let seq = 0;
/** A launch from a leader of `term`; `at` is its position in that leader's messages. */
const launch = (term: number, id: string, job = "j", at = ++seq): Launch => ({
  term,
  seq: at,
  job,
  executionId: id,
});
const ack = (term: number, at = ++seq) => ({ term, seq: at });

describe("WorkerFence", () => {
  test("accepts a first launch and says what to persist before starting it", () => {
    const f = new WorkerFence();
    expect(f.admit(launch(3, "1-1-w"))).toEqual({
      kind: "accept",
      key: "j/1-1-w",
      write: {
        highestTerm: 3,
        floor: { term: 0, seq: -1 },
        add: [{ key: "j/1-1-w", term: 3 }],
        forget: [],
      },
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
    f.settle("j/a", ack(1));
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
    const bads = [launch(-1, "x"), launch(1.5, "x"), launch(NaN, "x"), launch(1, ""), {
      ...launch(1, "x"),
      seq: -2,
    }];
    for (const bad of bads) {
      expect(f.admit(bad).kind).toBe("invalid");
    }
    expect(f.admit({ term: "3" as unknown as number, seq: 1, job: "j", executionId: "x" }).kind)
      .toBe(
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
    f.settle("j/b", ack(1));
    f.settle("j/a", ack(1));
    const d = f.admit(launch(1, "d"));
    expect(d.kind === "accept" && d.write.forget).toEqual(["j/b"]); // settled first, forgotten first
    expect(f.has("j/b")).toBe(false);
    expect(f.has("j/a")).toBe(true);
    expect(f.admit(launch(1, "c")).kind).toBe("duplicate"); // active ids are still refused
  });

  test("a delayed copy of a forgotten id is refused as too old (found by the model check)", () => {
    // Regression: with a window of settled ids, a launch copy still in flight when its id was
    // forgotten used to be accepted a second time.
    const f = new WorkerFence(undefined, 1);
    f.admit(launch(1, "x", "j", 1));
    f.settle("j/x", ack(1, 5)); // the leader applied x's finish; it sends no launch of x after
    expect(f.admit(launch(1, "y", "j", 6)).kind).toBe("accept"); // x forgotten, floor (1, 5)
    expect(f.admit(launch(1, "x", "j", 3))).toEqual({
      kind: "too_old",
      key: "j/x",
      floor: { term: 1, seq: 5 },
      termRaised: false,
    });
    expect(f.counters.tooOld).toBe(1);
    // A fresh launch delayed below the floor is refused too; its re-dispatch gets through.
    expect(f.admit(launch(1, "z", "j", 4)).kind).toBe("too_old");
    f.settle("j/y", ack(1, 8));
    expect(f.admit(launch(1, "z", "j", 9)).kind).toBe("accept");
    // A newer leader's launches are above any floor of an older term.
    const g = new WorkerFence(structuredClone(f.snapshot()), 1);
    g.settle("j/z", ack(1, 10));
    expect(g.admit(launch(2, "w", "j", 0)).kind).toBe("accept");
    expect(g.snapshot().floor).toEqual({ term: 1, seq: 10 });
  });

  test("an acknowledgement from a newer leader raises the term", () => {
    const f = new WorkerFence();
    f.admit(launch(1, "a"));
    f.settle("j/a", ack(3));
    expect(f.highestTerm).toBe(3);
    expect(f.admit(launch(2, "b")).kind).toBe("stale_term");
  });

  test("a restarted worker keeps its term and its ids from the snapshot", () => {
    const f = new WorkerFence();
    f.admit(launch(4, "1-1-w"));
    f.admit(launch(4, "2-1-w"));
    f.settle("j/1-1-w", ack(4));
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
