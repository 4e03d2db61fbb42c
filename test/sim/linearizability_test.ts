// Proves the WGL/Porcupine-style checker gives the right verdict on hand-made KV histories:
// linearizable ones (concurrency, unknown outcomes) pass and non-linearizable ones (stale read,
// lost write, read of a never-written value, real-time order violation) fail.
import { describe, expect, test } from "bun:test";
import {
  checkLinearizable,
  type KvInput,
  kvModel,
  type KvOutput,
  type Operation,
} from "./linearizability.ts";

type Op = Operation<KvInput, KvOutput>;
const put = (client: number, key: string, value: string, call: number, ret: number): Op => ({
  client,
  input: { kind: "put", key, value },
  output: ret === Infinity ? undefined : "ok",
  call,
  ret,
});
const get = (client: number, key: string, value: string | null, call: number, ret: number): Op => ({
  client,
  input: { kind: "get", key },
  output: value,
  call,
  ret,
});

describe("linearizability checker", () => {
  test("accepts a sequential history", () => {
    const h = [
      put(0, "x", "1", 0, 1),
      get(1, "x", "1", 2, 3),
      put(0, "x", "2", 4, 5),
      get(1, "x", "2", 6, 7),
    ];
    expect(checkLinearizable(kvModel, h)).toBe("ok");
  });

  test("accepts a read of the initial (absent) value", () => {
    expect(checkLinearizable(kvModel, [get(0, "x", null, 0, 1)])).toBe("ok");
  });

  test("accepts either order for overlapping writes observed by later reads", () => {
    const h = [
      put(0, "x", "a", 0, 10),
      put(1, "x", "b", 1, 9),
      get(2, "x", "a", 11, 12),
      get(2, "x", "a", 13, 14),
    ];
    expect(checkLinearizable(kvModel, h)).toBe("ok");
  });

  test("accepts a read concurrent with a write returning either value", () => {
    const old = [put(0, "x", "a", 0, 1), put(0, "x", "b", 2, 10), get(1, "x", "a", 3, 4)];
    const neu = [put(0, "x", "a", 0, 1), put(0, "x", "b", 2, 10), get(1, "x", "b", 3, 4)];
    expect(checkLinearizable(kvModel, old)).toBe("ok");
    expect(checkLinearizable(kvModel, neu)).toBe("ok");
  });

  test("accepts an unknown-outcome write that took effect, or did not", () => {
    const took = [put(0, "x", "a", 0, Infinity), get(1, "x", "a", 5, 6)];
    const didNot = [put(0, "x", "a", 0, Infinity), get(1, "x", null, 5, 6)];
    expect(checkLinearizable(kvModel, took)).toBe("ok");
    expect(checkLinearizable(kvModel, didNot)).toBe("ok");
  });

  test("rejects a stale read after a completed write", () => {
    const h = [put(0, "x", "1", 0, 1), put(0, "x", "2", 2, 3), get(1, "x", "1", 4, 5)];
    expect(checkLinearizable(kvModel, h)).toBe("illegal");
  });

  test("rejects a lost acknowledged write", () => {
    const h = [put(0, "x", "1", 0, 1), get(1, "x", null, 2, 3)];
    expect(checkLinearizable(kvModel, h)).toBe("illegal");
  });

  test("rejects a read of a value nobody wrote", () => {
    expect(checkLinearizable(kvModel, [get(0, "x", "ghost", 0, 1)])).toBe("illegal");
  });

  test("rejects reads that go back in time (new value, then old value, both after the writes)", () => {
    const h = [
      put(0, "x", "a", 0, 1),
      put(0, "x", "b", 2, 20),
      get(1, "x", "b", 3, 4),
      get(2, "x", "a", 5, 6),
    ];
    expect(checkLinearizable(kvModel, h)).toBe("illegal");
  });

  test("checks keys independently: a violation on one key is found among many", () => {
    const h: Op[] = [];
    for (let k = 0; k < 20; k++) h.push(put(0, `k${k}`, "v", k * 10, k * 10 + 1));
    h.push(get(1, "k7", null, 500, 501));
    expect(checkLinearizable(kvModel, h)).toBe("illegal");
    h.pop();
    h.push(get(1, "k7", "v", 500, 501));
    expect(checkLinearizable(kvModel, h)).toBe("ok");
  });

  test("handles a highly concurrent history within its budget", () => {
    const h: Op[] = [];
    for (let i = 0; i < 12; i++) h.push(put(i, "x", `v${i}`, 0, 100));
    h.push(get(99, "x", "v5", 101, 102));
    expect(checkLinearizable(kvModel, h)).toBe("ok");
  });
});
