// Proves the CLI's usability fixes (issue 14, items 14 and 15): --help/-h on every command and
// subcommand, `tock job`/`tock exec` without a subcommand list them all, data-dir errors name the
// path and problem, no internal jargon, and `tock job run NAME --wait` streams the run's output
// while it runs and exits with its exit code.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../src/cli/mod.ts";
import { defaultNodeIo } from "../src/node/mod.ts";
import { loadRuntime } from "../src/runtime/mod.ts";
import { startTestNode, type TestNode } from "./support/node.ts";
import { bunBin, notYet, repoRoot, slowWait, until } from "./support/proc.ts";

let node: TestNode;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tock-cli-help-"));
  node = await startTestNode(join(dir, "data"));
});
afterAll(async () => {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI in-process; `out` collects stdout lines and raw writes as they happen. */
function tock(...args: string[]) {
  const seen = { out: "", err: "" };
  const done = (async () => {
    const runtime = await loadRuntime();
    return await runCli(
      {
        runtime,
        out: (l) => (seen.out += l + "\n"),
        err: (l) => (seen.err += l + "\n"),
        nodeIo: () => defaultNodeIo(runtime),
        write: (chunk) => (seen.out += new TextDecoder().decode(chunk)),
      },
      args,
    );
  })();
  return { seen, done };
}
const run = async (...args: string[]) => {
  const t = tock(...args);
  const code = await t.done;
  return { code, ...t.seen };
};

describe("--help", () => {
  const commands = [
    ["agent"],
    ["job"],
    ["job", "ls"],
    ["job", "get"],
    ["job", "apply"],
    ["job", "run"],
    ["job", "next"],
    ["job", "delete"],
    ["job", "toggle"],
    ["exec"],
    ["exec", "ls"],
    ["exec", "get"],
    ["exec", "kill"],
    ["keygen"],
    ["keyring"],
    ["version"],
    ["completion"],
  ];
  test("--help and -h print the usage of every command and subcommand, exit 0", async () => {
    for (const cmd of commands) {
      for (const flag of ["--help", "-h"]) {
        const r = await run(...cmd, flag);
        expect({ cmd: [...cmd, flag], code: r.code, err: r.err }).toEqual({
          cmd: [...cmd, flag],
          code: 0,
          err: "",
        });
        expect(r.out).toStartWith(`Usage: tock ${cmd.join(" ")}`);
      }
    }
    expect((await run("job", "run", "--help")).out).toContain("--wait");
    expect((await run("help", "exec")).out).toStartWith("Usage: tock exec");
  });
  test("tock job without a subcommand lists all of them, next included; exec says what is missing", async () => {
    const job = await run("job");
    expect(job.code).toBe(2);
    expect(job.err).toStartWith("tock job: missing subcommand");
    for (const sub of ["ls", "get", "apply", "run", "next", "delete", "toggle"]) {
      expect(job.err).toContain(`\n  ${sub} `);
    }
    const exec = await run("exec");
    expect(exec.code).toBe(2);
    expect(exec.err).toStartWith("tock exec: missing subcommand");
    for (const sub of ["ls", "get", "kill"]) expect(exec.err).toContain(`\n  ${sub} `);
    expect((await run("job", "frob")).err).toStartWith('tock job: unknown subcommand "frob"');
  });
});

describe("agent messages", () => {
  const agent = (...args: string[]) =>
    spawnSync(bunBin, [join(repoRoot, "src/main.ts"), "agent", ...args], {
      encoding: "utf8",
      timeout: 20_000,
      cwd: dir,
    });
  test(
    "a data dir that is a file, or under a file, is one line naming the path and problem",
    () => {
      const file = join(dir, "not-a-dir");
      writeFileSync(file, "x");
      const a = agent("--server", "--data-dir", file, "--http-addr", "127.0.0.1:0");
      expect(a.status).toBe(1);
      expect(a.stderr.trim()).toBe(`tock: data dir ${file}: exists and is not a directory`);
      const b = agent("--server", "--data-dir", join(file, "sub"), "--http-addr", "127.0.0.1:0");
      expect(b.status).toBe(1);
      expect(b.stderr.trim()).toBe(
        `tock: data dir ${join(file, "sub")}: a parent of it is a file, not a directory`,
      );
    },
    slowWait.testMs,
  );
  test("plain tock agent says what to do, in the user's words", () => {
    const r = agent("--data-dir", join(dir, "plain"), "--http-addr", "127.0.0.1:0");
    expect(r.status).toBe(1);
    expect(r.stderr).not.toContain("issue");
    expect(r.stderr.trim()).toBe(
      "tock: this version runs servers only: start the agent with --server (or --dev for a one-node server on 127.0.0.1:8080)",
    );
  }, slowWait.testMs);
});

describe("tock job run --wait", () => {
  test("streams the output while the run goes on and exits with the run's exit code", async () => {
    const flag = join(dir, "wait-go-on");
    const created = await fetch(`${node.url}/v1/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        name: "waited",
        schedule: "@manually",
        executor: "shell",
        executor_config: {
          command: "echo one; while [ ! -f $FLAG ]; do sleep 0.05; done; echo two; exit 7",
          shell: "true",
          env: `FLAG=${flag}`,
        },
      }),
    });
    expect(created.status).toBe(201);
    const t = tock("job", "run", "waited", "--wait", "--address", node.url);
    let code: number | undefined;
    void t.done.then((c) => (code = c));
    try {
      // The first line arrives while the run still waits for the flag: it is live, not replayed.
      await until(
        "the first line on stdout",
        () => t.seen.out === "one\n" ? true : notYet(t.seen),
        slowWait.untilMs,
      );
      expect(code).toBeUndefined();
    } finally {
      writeFileSync(flag, "");
    }
    expect(await t.done).toBe(7);
    // The shell executor notes a non-zero exit in the output, as Dkron does.
    expect(t.seen.out).toBe("one\ntwo\n\nexit status 7\n");
    expect(t.seen.err).toMatch(/^job "waited" started \(execution \d+-1\)\n/);
    expect(t.seen.err).toContain("failed (exit code 7)");
    expect(existsSync(flag)).toBe(true);
    const ok = await run("job", "run", "waited", "--wait", "--address", node.url);
    expect({ code: ok.code, out: ok.out }).toEqual({ code: 7, out: "one\ntwo\n\nexit status 7\n" });
    const missing = await run("job", "run", "nope", "--wait", "--address", node.url);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('job "nope" not found');
  }, slowWait.testMs);
});
