// Proves the shell executor: Dkron's config keys (command with and without a shell, env, cwd,
// timeout, mem_limit, payload, su), streamed and capped output, exit codes, and that a timeout, an
// abort or a background process left behind never leaks processes of the job's group.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import {
  type ExecutionResult,
  executorRegistry,
  parseMemoryLimit,
  splitShellWords,
} from "./mod.ts";

const shell = executorRegistry().get("shell")!;
const dir = mkdtempSync(join(tmpdir(), "tock-shell-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Ran extends ExecutionResult {
  text: string;
  chunks: number;
}

async function run(
  config: Record<string, string>,
  opts: { outputBytesMax?: number; signal?: AbortSignal; onChunk?: (text: string) => void } = {},
): Promise<Ran> {
  let text = "";
  let chunks = 0;
  const r = await shell.run({
    executionId: "e1",
    jobName: "myjob",
    executor: "shell",
    config,
    signal: opts.signal ?? new AbortController().signal,
    outputBytesMax: opts.outputBytesMax ?? 256_000,
    onOutput(chunk) {
      chunks++;
      const t = new TextDecoder().decode(chunk);
      text += t;
      opts.onChunk?.(t);
    },
  });
  return { ...r, text, chunks };
}

/** True when the process is gone or a zombie (its parent died; nothing left running). */
function dead(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** Polls until every pid is dead, failing with the survivors after a deadline. */
async function expectAllDead(pids: number[]): Promise<void> {
  const deadline = performance.now() + 5_000;
  let alive = pids.filter((p) => !dead(p));
  while (alive.length > 0 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    alive = pids.filter((p) => !dead(p));
  }
  expect(alive).toEqual([]);
}

function readPids(...files: string[]): number[] {
  return files.map((f) => Number(readFileSync(f, "utf8").trim()));
}

describe("shell executor", () => {
  test("a zero exit succeeds and stdout and stderr are both captured", async () => {
    const r = await run({ command: "echo out; echo err >&2", shell: "true" });
    expect(r).toMatchObject({ success: true, exitCode: 0, error: "", truncated: false });
    expect(r.text.split("\n").sort()).toEqual(["", "err", "out"]);
    expect(r.outputBytes).toBe(8);
  });

  test("a non-zero exit fails with Go's 'exit status N'", async () => {
    const r = await run({ command: "echo partial; exit 3", shell: "true" });
    expect(r).toMatchObject({ success: false, exitCode: 3, error: "exit status 3" });
    expect(r.text).toBe("partial\n");
  });

  test("output is streamed while the command runs", async () => {
    // The command waits for a file that the test creates only after seeing the first line, so
    // it can only finish if that line was delivered before the command exited.
    const flag = join(dir, "flag-stream");
    const r = await run(
      {
        command: `echo first; while [ ! -f ${flag} ]; do sleep 0.02; done; echo second`,
        shell: "true",
        timeout: "10s",
      },
      { onChunk: (t) => t.includes("first") && writeFileSync(flag, "") },
    );
    expect(r).toMatchObject({ success: true, exitCode: 0 });
    expect(r.text).toBe("first\nsecond\n");
    expect(r.chunks).toBeGreaterThanOrEqual(2);
  });

  test("output past outputBytesMax is drained and dropped, and the run still succeeds", async () => {
    const r = await run({ command: "head -c 1000000 /dev/zero" }, { outputBytesMax: 1000 });
    expect(r).toMatchObject({
      success: true,
      exitCode: 0,
      truncated: true,
      outputBytes: 1_000_000,
    });
    expect(r.text.length).toBe(1000);
    const tail = await run({ command: "seq 1 100000" }, { outputBytesMax: 10 });
    expect(tail.text).toBe("1\n2\n3\n4\n5\n");
    const lastLines = new TextDecoder().decode(tail.tail).split("\n");
    expect(lastLines.slice(-3)).toEqual(["99999", "100000", ""]);
    expect(tail.tail?.length).toBe(1024);
  });

  test("a timeout kills the whole process group, grandchildren included", async () => {
    const p1 = join(dir, "t-child");
    const p2 = join(dir, "t-grandchild");
    const r = await run({
      command: `sleep 300 & echo $! > ${p1}; sh -c 'sleep 300 & echo $! > ${p2}; wait' & wait`,
      shell: "true",
      timeout: "300ms",
    });
    expect(r).toMatchObject({ success: false, exitCode: null, error: "signal: killed" });
    expect(r.text).toContain("execution time exceeding defined timeout 300ms. Job was killed");
    await expectAllDead(readPids(p1, p2));
  });

  test("aborting kills the whole process group", async () => {
    const p1 = join(dir, "a-child");
    const ac = new AbortController();
    const r = await run(
      { command: `sleep 300 & echo $! > ${p1}; echo started; wait`, shell: "true" },
      { signal: ac.signal, onChunk: (t) => t.includes("started") && ac.abort() },
    );
    expect(r).toMatchObject({ success: false, error: "shell: execution aborted" });
    await expectAllDead(readPids(p1));
    const before = new AbortController();
    before.abort();
    const early = await run({ command: "echo never" }, { signal: before.signal });
    expect(early).toMatchObject({ success: false, error: "shell: execution aborted before start" });
    expect(early.text).toBe("");
  });

  test("background processes left holding the output are killed after the command exits", async () => {
    const p1 = join(dir, "bg-child");
    const r = await run({ command: `sleep 300 & echo $! > ${p1}; echo done`, shell: "true" });
    expect(r).toMatchObject({ success: true, exitCode: 0 });
    expect(r.text).toContain("done\n");
    expect(r.text).toContain("left background processes");
    await expectAllDead(readPids(p1));
  });

  test("what a job leaves in its process group is killed when it exits (control-group)", async () => {
    const p1 = join(dir, "nohup-child");
    // Detached from the output pipes, so nothing but the kill mode can catch it.
    const r = await run({
      command: `nohup sleep 300 >/dev/null 2>&1 & echo $! > ${p1}`,
      shell: "true",
    });
    expect(r).toMatchObject({ success: true, exitCode: 0 });
    expect(r.text).toContain("left background processes; they were killed");
    await expectAllDead(readPids(p1));
  });

  test("kill_mode process leaves background processes running and still succeeds", async () => {
    const p1 = join(dir, "kept-child");
    const r = await run({
      command: `nohup sleep 300 >/dev/null 2>&1 & echo $! > ${p1}`,
      shell: "true",
      kill_mode: "process",
    });
    expect(r).toMatchObject({ success: true, exitCode: 0 });
    const [pid] = readPids(p1) as [number];
    try {
      expect(dead(pid)).toBe(false);
    } finally {
      process.kill(pid, "SIGKILL");
    }
    await expectAllDead([pid]);
    expect(shell.validate({ command: "x", kill_mode: "mixed" })).toContain(
      'kill_mode "mixed" must be "control-group" (default) or "process"',
    );
    expect(shell.validate({ command: "x", kill_mode: "process" })).toBeUndefined();
  });

  test("env pairs are appended to the environment along with ENV_JOB_NAME", async () => {
    const r = await run({ command: `sh -c "echo $A-$B-$ENV_JOB_NAME"`, env: "A=1,B=two words" });
    expect(r.text).toBe("1-two words-myjob\n");
    const inherited = await run({ command: `sh -c "echo $PATH"` });
    expect(inherited.text.trim()).toBe(process.env.PATH ?? "");
  });

  test("cwd sets the working directory; a missing one fails clearly", async () => {
    const r = await run({ command: "pwd", cwd: dir });
    expect(r.text.trim()).toBe(dir);
    const bad = await run({ command: "pwd", cwd: join(dir, "nope") });
    expect(bad).toMatchObject({
      success: false,
      error: `shell: cwd "${join(dir, "nope")}" is not a directory`,
    });
  });

  test("without shell the command is split into words, quotes honoured, nothing expanded", async () => {
    const r = await run({ command: `printf '%s|' "a b" 'c $HOME' e\\ f` });
    expect(r.text).toBe("a b|c $HOME|e f|");
    const literal = await run({ command: "echo hi && echo there", shell: "false" });
    expect(literal.text).toBe("hi && echo there\n");
    const withShell = await run({ command: "echo hi && echo there", shell: "true" });
    expect(withShell.text).toBe("hi\nthere\n");
  });

  test("payload is base64 data written to stdin", async () => {
    const r = await run({ command: "cat", payload: btoa("hello stdin") });
    expect(r.text).toBe("hello stdin");
  });

  test("a command that cannot start fails with the reason", async () => {
    const r = await run({ command: "tock-no-such-binary --flag" });
    expect(r.success).toBe(false);
    expect(r.exitCode).toBeNull();
    expect(r.error).toContain('shell: cannot start "tock-no-such-binary"');
  });

  test.skipIf(process.getuid?.() !== 0 || !existsSync("/etc/passwd"))(
    "su runs the command as another user and group (needs root)",
    async () => {
      const user = await run({ command: "id -un", su: "nobody" });
      expect(user).toMatchObject({ success: true, text: "nobody\n" });
      const nobodyGid = readFileSync("/etc/passwd", "utf8").split("\n").find((l) =>
        l.startsWith("nobody:")
      )
        ?.split(":")[3];
      const gid = await run({ command: "id -g", su: "nobody" });
      expect(gid.text.trim()).toBe(nobodyGid ?? "missing");
      const withGroup = await run({ command: "id -g", su: "nobody:0" });
      expect(withGroup.text).toBe("0\n");
      const unknown = await run({ command: "id", su: "tock-no-such-user" });
      expect(unknown).toMatchObject({
        success: false,
        error: 'shell: su user "tock-no-such-user" is unknown on this node',
      });
    },
  );

  test.skipIf(process.platform !== "linux" || !existsSync("/proc/self/stat"))(
    "mem_limit kills the group when its resident memory exceeds the limit",
    async () => {
      const r = await run({
        command:
          `awk 'BEGIN { s = "x"; while (length(s) < 200000000) s = s s; system("sleep 30") }'`,
        shell: "true",
        mem_limit: "64MB",
        timeout: "20s",
      });
      expect(r).toMatchObject({ success: false, error: "signal: killed" });
      expect(r.text).toMatch(
        /memory usage \(\d+ bytes\) exceeding defined limit \(67108864 bytes\)/,
      );
    },
  );
});

describe("shell config validation", () => {
  test("accepts Dkron's keys and names the first problem otherwise", () => {
    const ok = {
      command: "echo hi",
      shell: "true",
      env: "A=1",
      cwd: "/",
      timeout: "1m",
      mem_limit: "1GB",
    };
    expect(shell.validate(ok)).toBeUndefined();
    expect(shell.validate({})).toBe("shell: Command missing");
    expect(shell.validate({ command: "   " })).toBe("shell: Command missing");
    expect(shell.validate({ command: "x", timeout: "soon" })).toContain(
      'timeout "soon" is not a duration',
    );
    expect(shell.validate({ command: "x", timeout: "0s" })).toContain("must be positive");
    expect(shell.validate({ command: "x", mem_limit: "100PB" })).toContain('unknown unit "PB"');
    expect(shell.validate({ command: "x", env: "NOEQUALS" })).toContain('env entry "NOEQUALS"');
    expect(shell.validate({ command: "x", payload: "!!" })).toContain(
      "payload is not valid base64",
    );
    expect(shell.validate({ command: "x", su: "nobody" })).toBeUndefined();
    expect(shell.validate({ command: "x", su: "a:b:c" })).toContain(
      'su "a:b:c" is not user or user:group',
    );
    expect(shell.validate({ command: "x", comand: "y" })).toContain('unknown key "comand"');
    expect(shell.validate({ command: `echo "open` })).toContain("unterminated double quote");
  });

  test("a NUL byte in command or env and a non-boolean shell are refused when validating", () => {
    expect(shell.validate({ command: "echo a\0b" })).toBe("shell: command contains a NUL byte");
    expect(shell.validate({ command: "x", env: "A\0B=1" })).toContain("contains a NUL byte");
    expect(shell.validate({ command: "x", env: "A=1\0" })).toContain("contains a NUL byte");
    expect(shell.validate({ command: "x", shell: "maybe" })).toBe(
      'shell: shell "maybe" is not a boolean (use "true" or "false")',
    );
    expect(shell.validate({ command: "x", shell: "" })).toBeUndefined();
    expect(shell.validate({ command: "x", shell: "False" })).toBeUndefined();
  });

  test("parseMemoryLimit follows Dkron's vectors", () => {
    expect(parseMemoryLimit("")).toBeUndefined();
    expect(parseMemoryLimit("1024")).toBe(1024);
    expect(parseMemoryLimit("1KB")).toBe(1024);
    expect(parseMemoryLimit("1MB")).toBe(1048576);
    expect(parseMemoryLimit("2GB")).toBe(2147483648);
    expect(parseMemoryLimit("512mb")).toBe(536870912);
    expect(parseMemoryLimit("1.5GB")).toBe(1610612736);
    for (const bad of ["invalid", "-100MB", "0", "100PB"]) {
      expect(() => parseMemoryLimit(bad)).toThrow(/mem_limit/);
    }
  });

  test("splitShellWords splits like a shell without expanding", () => {
    expect(splitShellWords(`a  "b c" 'd "e"' f\\ g "h\\"i" ''`)).toEqual([
      "a",
      "b c",
      'd "e"',
      "f g",
      'h"i',
      "",
    ]);
    expect(splitShellWords("   ")).toEqual([]);
    expect(() => splitShellWords("'open")).toThrow("unterminated single quote");
    expect(() => splitShellWords("end\\")).toThrow("trailing backslash");
  });
});
