/**
 * Starts `tock agent` as a real process (source or compiled binary) on an ephemeral port and
 * waits for its "listening on" line. Used by process-level tests; polls with deadlines, no sleeps.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface AgentProcess {
  url: string;
  proc: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal name) once the process exits. */
  exited: Promise<number | string>;
}

export const repoRoot = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
export const bunBin = process.execPath;

export function startAgent(
  args: string[],
  opts: { cwd?: string; command?: string[]; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<AgentProcess> {
  const command = opts.command ?? [bunBin, `${repoRoot}/src/main.ts`];
  const proc = spawn(command[0] as string, [...command.slice(1), "agent", ...args], {
    cwd: opts.cwd ?? repoRoot,
    env: opts.env ?? process.env, // when given, the whole environment of the child
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout?.on("data", (d) => (out += d.toString()));
  proc.stderr?.on("data", (d) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    proc.on("exit", (code, signal) => resolve(code ?? signal ?? -1))
  );
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(
        new Error(
          `agent did not report listening within ${opts.timeoutMs ?? 15000} ms; output:\n${out}`,
        ),
      );
    }, opts.timeoutMs ?? 15_000);
    const check = () => {
      const m = /listening on (https?:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(deadline);
        resolve({ url: m[1] as string, proc, output: () => out, exited });
      }
    };
    proc.stdout?.on("data", check);
    exited.then((code) => {
      clearTimeout(deadline);
      reject(new Error(`agent exited (${code}) before listening; output:\n${out}`));
    });
  });
}

/** `tock agent` flags for a dev-mode agent on a port chosen at run time, its data in `dataDir`. */
export function devAgentArgs(dataDir: string): string[] {
  return ["--dev", "--http-addr", "127.0.0.1:0", "--data-dir", dataDir];
}

/**
 * Runs `fn` against `tock agent --dev` with its data in a fresh temp dir (named `dirPrefix` and
 * a suffix), then stops it (SIGTERM, waiting for the exit) and removes the dir, however fn ended.
 */
export async function withDevAgent<T>(
  dirPrefix: string,
  fn: (a: AgentProcess) => Promise<T>,
  timeoutMs: number,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  const a = await startAgent(
    devAgentArgs(join(dir, "data")),
    { timeoutMs },
  );
  try {
    return await fn(a);
  } finally {
    await stopAgent(a);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Stops an agent this test started, if it is still running: SIGTERM, then waits for the exit. */
export async function stopAgent(a: AgentProcess | undefined): Promise<void> {
  if (a === undefined || a.proc.exitCode !== null) return;
  a.proc.kill("SIGTERM");
  await a.exited;
}

/**
 * bun's per-test timeout is 5 s unless a test passes its own. `until`'s default deadline stays
 * inside it, so a failed wait prints what it saw instead of a bare "timed out" from bun. A test
 * that waits longer passes both a longer deadline and a longer test timeout (`slowWait`).
 */
export const untilDefaultMs = 4_000;
/** For waits on real processes under load: the deadline, and the test timeout that holds it. */
export const slowWait = { untilMs: 20_000, testMs: 30_000 } as const;

/** Thrown from an `until` callback to say "not yet" with what was seen (printed on timeout). */
export function notYet(seen: unknown): never {
  throw new Error(`last seen: ${typeof seen === "string" ? seen : JSON.stringify(seen)}`);
}

/**
 * Polls `fn` until it returns a value other than undefined, or fails after `timeoutMs` with the
 * last error `fn` threw (use `notYet(state)` to report the state seen).
 */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = untilDefaultMs,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${
          last ? `: ${last instanceof Error ? last.message : String(last)}` : ""
        }`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
