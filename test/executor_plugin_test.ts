// Proves external executor plugins: the Python example in test/fixtures/plugins is found in a
// plugin dir and run over the documented protocol (handshake, configure, streamed output,
// result). A crash, a refused config, a hang (aborted), an early exit and a wrong protocol
// version each fail only their run, with the reason; no plugin process outlives its run.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { executorRegistry, loadPlugins } from "../src/executor/mod.ts";
import { runExecutor } from "./support/executors.ts";
import { repoRoot, until } from "./support/proc.ts";

const fixtures = join(repoRoot, "test/fixtures/plugins");
const dir = mkdtempSync(join(tmpdir(), "tock-plugins-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const builtIn = new Set(executorRegistry().keys());
const { executors, problems } = loadPlugins(fixtures, builtIn);
const pyecho = executors.get("pyecho")!;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function runTracked(
  config: Record<string, string>,
  signal?: AbortSignal,
  onChunk: () => void = () => {},
) {
  const pids: number[] = [];
  const chunks: Uint8Array[] = [];
  const r = await pyecho.run({
    executionId: "1-1",
    jobName: "job1",
    executor: "pyecho",
    config,
    signal: signal ?? new AbortController().signal,
    onOutput: (c) => {
      chunks.push(c.slice());
      onChunk();
    },
    onSpawn: (pid) => pids.push(pid),
    outputBytesMax: 256_000,
  });
  return { ...r, output: Buffer.concat(chunks).toString(), pids };
}

describe("executor plugins", () => {
  test("the Python example is found in the plugin dir", () => {
    expect(problems).toEqual([]);
    expect([...executors.keys()]).toEqual(["pyecho"]);
  });

  test(
    "runs a job: output streamed in order, then the result; the process is gone after",
    async () => {
      const r = await runTracked({ message: "hi", lines: "3", exit_code: "0" });
      expect(r.error).toBe("");
      expect(r.success).toBe(true);
      expect(r.exitCode).toBe(0);
      expect(r.output).toBe("hi 1 from job1\nhi 2 from job1\nhi 3 from job1\n");
      expect(r.pids).toHaveLength(1);
      await until("the plugin process to be gone", () => (alive(r.pids[0]!) ? undefined : true));
    },
    30_000,
  );

  test(
    "a plugin that floods stdout after its handshake still runs (the pipe is drained)",
    async () => {
      process.env.PYECHO_CHATTY = "1";
      try {
        const r = await runTracked({ message: "m" });
        expect(r.error).toBe("");
        expect(r.output).toBe("m 1 from job1\n");
      } finally {
        delete process.env.PYECHO_CHATTY;
      }
    },
    30_000,
  );

  test("a failed result fails the run with the plugin's reason", async () => {
    const r = await runTracked({ fail: "true", exit_code: "7" });
    expect(r.success).toBe(false);
    expect(r.error).toBe("pyecho: asked to fail");
    expect(r.exitCode).toBe(7);
  }, 30_000);

  test("Configure refusing the config fails the run before Execute", async () => {
    const r = await runTracked({ lines: "many" });
    expect(r.success).toBe(false);
    expect(r.error).toBe('plugin pyecho: lines "many" is not a whole number');
    expect(r.output).toBe("");
  }, 30_000);

  test("a plugin crash mid-run fails that run, keeping the output so far", async () => {
    const r = await runTracked({ message: "boom", lines: "5", crash: "true" });
    expect(r.success).toBe(false);
    expect(r.error).toContain("plugin pyecho crashed during execute: exit code 3");
    expect(r.output).toContain("boom 1 from job1");
    // The executor still works for the next run.
    expect((await runTracked({})).success).toBe(true);
  }, 30_000);

  test("aborting a hung plugin kills it", async () => {
    const abort = new AbortController();
    // Abort once the plugin has streamed its line and hangs.
    const r = await runTracked({ hang: "true" }, abort.signal, () => abort.abort());
    expect(r.success).toBe(false);
    expect(r.error).toBe("plugin pyecho: execution aborted");
    expect(r.output).toBe("hello 1 from job1\n");
    await until("the plugin process to be gone", () => (alive(r.pids[0]!) ? undefined : true));
  }, 30_000);

  test("an early exit and a wrong protocol version fail with the reason", async () => {
    const early = join(dir, "tock-executor-early");
    writeFileSync(early, "#!/bin/sh\necho 'missing library' >&2\nexit 4\n");
    const v2 = join(dir, "tock-executor-future");
    writeFileSync(v2, "#!/bin/sh\necho 'TOCK_PLUGIN 2 unix /nowhere'\nexec sleep 60\n");
    const shadow = join(dir, "tock-executor-shell");
    writeFileSync(shadow, "#!/bin/sh\n");
    writeFileSync(join(dir, "tock-executor-notexec"), "#!/bin/sh\n");
    for (const p of [early, v2, shadow]) chmodSync(p, 0o755);
    const loaded = loadPlugins(dir, builtIn);
    expect([...loaded.executors.keys()].sort()).toEqual(["early", "future"]);
    expect(loaded.problems.join("\n")).toContain('executor "shell" already exists; skipped');
    expect(loaded.problems.join("\n")).toContain("tock-executor-notexec is not an executable file");
    const a = await runExecutor(loaded.executors.get("early")!, {});
    expect(a.success).toBe(false);
    expect(a.error).toBe("plugin early: exited (4) before its handshake; stderr: missing library");
    const b = await runExecutor(loaded.executors.get("future")!, {});
    expect(b.success).toBe(false);
    expect(b.error).toBe("plugin future speaks protocol 2; this Tock speaks 1");
  }, 30_000);
});
