// Proves output.db: chunks append and read back whole or from an offset, small writes merge
// into few rows, per-execution byte cap marks truncation, and retention by count per job, by
// age and by total bytes (live executions kept) deletes the oldest; totals survive a reopen.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { executorRegistry, OutputStore, type SqlDb } from "./mod.ts";

const dir = mkdtempSync(join(tmpdir(), "tock-output-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (
  b: Uint8Array | undefined,
) => (b === undefined ? undefined : new TextDecoder().decode(b));
const open = (path = ":memory:") => new DatabaseSync(path) as unknown as SqlDb;

describe("OutputStore", () => {
  test("appends chunks and reads them back whole or from a byte offset", () => {
    const store = new OutputStore(open());
    store.begin("e1", "job", 1_000);
    store.append("e1", enc("hello "));
    store.append("e1", enc("world"));
    expect(dec(store.read("e1"))).toBe("hello world");
    expect(dec(store.read("e1", 6))).toBe("world");
    expect(dec(store.read("e1", 11))).toBe("");
    expect(store.read("missing")).toBeUndefined();
    store.finish("e1", 2_000);
    expect(store.get("e1")).toEqual({
      executionId: "e1",
      jobName: "job",
      startedMs: 1_000,
      finishedMs: 2_000,
      bytes: 11,
      truncated: false,
    });
    expect(store.totalBytes).toBe(11);
  });

  test("many small writes merge into few rows and large ones keep their offsets", () => {
    const db = open();
    const store = new OutputStore(db);
    store.begin("e1", "job", 0);
    let expected = "";
    for (let i = 0; i < 2_000; i++) {
      const line = `line ${i}\n`;
      store.append("e1", enc(line));
      expected += line;
    }
    const big = "B".repeat(40_000);
    store.append("e1", enc(big));
    expected += big;
    store.append("e1", enc("tail"));
    expected += "tail";
    const rows = db.prepare("SELECT COUNT(*) AS n FROM output_chunks").get();
    expect(Number(rows?.n)).toBeLessThan(5);
    expect(dec(store.read("e1"))).toBe(expected);
    expect(dec(store.read("e1", expected.length - 10))).toBe(expected.slice(-10));
  });

  test("output past executionBytesMax is dropped and the execution marked truncated", () => {
    const store = new OutputStore(open(), { executionBytesMax: 10 });
    store.begin("e1", "job", 0);
    expect(store.append("e1", enc("12345678"))).toBe(8);
    expect(store.append("e1", enc("abcdef"))).toBe(2);
    expect(store.append("e1", enc("more"))).toBe(0);
    expect(dec(store.read("e1"))).toBe("12345678ab");
    expect(store.get("e1")?.truncated).toBe(true);
  });

  test("keeps at most executionsPerJobMax executions per job, deleting the oldest", () => {
    const store = new OutputStore(open(), { executionsPerJobMax: 3 });
    for (let i = 0; i < 5; i++) {
      store.begin(`a${i}`, "a", i * 10);
      store.append(`a${i}`, enc(`run ${i}`));
      store.finish(`a${i}`, i * 10 + 1);
    }
    store.begin("b0", "b", 0);
    expect(store.list("a").map((e) => e.executionId)).toEqual(["a4", "a3", "a2"]);
    expect(store.read("a0")).toBeUndefined();
    expect(store.list("b").length).toBe(1);
    expect(store.totalBytes).toBe(15);
  });

  test("prune deletes by age, then the oldest finished executions until the total fits", () => {
    const store = new OutputStore(open(), { ageMsMax: 1_000, totalBytesMax: 25 });
    for (let i = 0; i < 4; i++) {
      store.begin(`e${i}`, `job${i % 2}`, 100 * i);
      store.append(`e${i}`, enc("0123456789"));
      if (i !== 0) store.finish(`e${i}`, 100 * i + 50);
    }
    // e0 is live (not finished), so the byte bound removes e1 and e2 and keeps e0 and e3.
    expect(store.prune(500)).toBe(2);
    expect(
      [store.get("e0"), store.get("e1"), store.get("e2"), store.get("e3")].map((e) =>
        e !== undefined
      ),
    )
      .toEqual([true, false, false, true]);
    expect(store.totalBytes).toBe(20);
    // Age: at 1_250 everything started before 250 is too old (e0 at 0); e3 at 300 stays.
    expect(store.prune(1_250)).toBe(1);
    expect(store.get("e0")).toBeUndefined();
    expect(store.get("e3")).toBeDefined();
  });

  test("deleteJob removes a job's output but not output being written; totals survive reopening", () => {
    const path = join(dir, "output.db");
    const store = new OutputStore(open(path));
    store.begin("x1", "x", 0);
    store.append("x1", enc("aaa"));
    store.finish("x1", 1);
    store.begin("y1", "y", 0);
    store.append("y1", enc("bbbb"));
    // A live writer (a run of a same-name job created after the delete) keeps its output.
    store.begin("x2", "x", 2);
    store.append("x2", enc("cc"));
    expect(store.deleteJob("x")).toBe(1);
    store.append("x2", enc("c"));
    store.finish("x2", 3);
    expect(dec(store.read("x2"))).toBe("ccc");
    expect(store.delete("x2")).toBe(true);
    expect(store.list("x")).toEqual([]);
    store.close();
    const again = new OutputStore(open(path));
    expect(again.totalBytes).toBe(4);
    expect(dec(again.read("y1"))).toBe("bbbb");
    expect(again.delete("y1")).toBe(true);
    expect(again.delete("y1")).toBe(false);
    expect(again.totalBytes).toBe(0);
    again.close();
  });

  test("a live execution continues after a reopen and count retention spares live runs", () => {
    const path = join(dir, "live.db");
    const store = new OutputStore(open(path), { executionsPerJobMax: 2 });
    store.begin("l1", "job", 0);
    store.append("l1", enc("before "));
    store.close(); // flushes the buffered bytes
    const again = new OutputStore(open(path), { executionsPerJobMax: 2 });
    again.append("l1", enc("after"));
    expect(dec(again.read("l1"))).toBe("before after");
    expect(dec(again.read("l1", 7))).toBe("after");
    for (let i = 0; i < 3; i++) {
      again.begin(`f${i}`, "job", 10 + i);
      again.finish(`f${i}`, 20 + i);
    }
    // l1 is the oldest but still live: only finished runs were deleted to make room.
    expect(again.list("job").map((e) => e.executionId)).toEqual(["f2", "f1", "l1"]);
    again.finish("l1", 30);
    expect(again.get("l1")).toMatchObject({ bytes: 12, finishedMs: 30, truncated: false });
    again.close();
  });

  test("starting an execution twice or appending to an unknown one is a bug", () => {
    const store = new OutputStore(open());
    store.begin("e1", "job", 0);
    expect(() => store.begin("e1", "job", 0)).toThrow(/already has output/);
    expect(() => store.append("nope", enc("x"))).toThrow(/unknown execution/);
    store.finish("e1", 1);
    expect(() => store.append("e1", enc("x"))).toThrow(/finished execution/);
  });
});

describe("executorRegistry", () => {
  test("holds the built-in executors; noop succeeds at once and can be told to fail", async () => {
    const reg = executorRegistry();
    expect([...reg.keys()].sort()).toEqual([
      "grpc",
      "http",
      "kafka",
      "nats",
      "noop",
      "rabbitmq",
      "redis",
      "shell",
    ]);
    const noop = reg.get("noop")!;
    let out = "";
    const base = {
      executionId: "e",
      jobName: "j",
      executor: "noop",
      signal: new AbortController().signal,
      outputBytesMax: 100,
      onOutput: (c: Uint8Array) => {
        out += new TextDecoder().decode(c);
      },
    };
    const r = await noop.run({ ...base, config: { output: "hi" } });
    expect({ ...r, tail: new TextDecoder().decode(r.tail) }).toEqual({
      success: true,
      exitCode: null,
      error: "",
      outputBytes: 2,
      truncated: false,
      tail: "hi",
    });
    expect(out).toBe("hi");
    expect((await noop.run({ ...base, config: { fail: "true" } })).success).toBe(false);
    expect(noop.validate({ fail: "perhaps" })).toContain("noop: fail");
    expect(noop.validate({ other: "x" })).toContain('unknown key "other"');
  });
});
