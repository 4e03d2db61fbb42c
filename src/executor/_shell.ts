/**
 * The shell executor (Dkron's plugin/shell): runs a command in its own process group so that a
 * timeout, a memory limit or an abort kills the command and everything it started.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { Buffer } from "node:buffer";
import process from "node:process";
import { formatGoDuration, limits, parseGoDuration } from "../lib/mod.ts";
import { failed, ok } from "./_bounded.ts";
import { parseGoBool, parseMemoryLimit, splitShellWords } from "./_parse.ts";
import { isAgentSecretEnv } from "./secrets.ts";
import {
  type ExecutionRequest,
  type ExecutionResult,
  type Executor,
  OutputSink,
} from "./_types.ts";

const knownKeys = new Set([
  "command",
  "shell",
  "env",
  "cwd",
  "timeout",
  "mem_limit",
  "payload",
  "su",
  "kill_mode",
]);

interface ShellPlan {
  argv: string[];
  env: Record<string, string>;
  cwd: string | undefined;
  timeoutMs: number | undefined;
  memLimitBytes: number | undefined;
  stdin: Uint8Array | undefined;
  su: { user: string; group: string | undefined } | undefined;
  /**
   * What happens to processes the command leaves behind when it exits (systemd's KillMode):
   * "control-group" (default) kills the rest of its process group; "process" leaves them.
   */
  killMode: "control-group" | "process";
}

/** Reads name:x:id:... lines of /etc/passwd or /etc/group into name -> fields. */
function readIdFile(path: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const f = line.split(":");
    out.set(f[0] as string, f);
  }
  return out;
}

/**
 * Dkron's `su` ("user" or "user:group", names or numeric ids) resolved on this node to a uid and
 * gid; the gid defaults to the user's primary group. Throws naming an unknown user or group.
 */
export function resolveSu(user: string, group: string | undefined): { uid: number; gid: number } {
  const passwd = readIdFile("/etc/passwd");
  let uid: number;
  let gid: number | undefined;
  const entry = passwd.get(user) ??
    [...passwd.values()].find((f) => /^\d+$/.test(user) && f[2] === user);
  if (entry !== undefined) {
    uid = Number(entry[2]);
    gid = Number(entry[3]);
  } else if (/^\d+$/.test(user) && group !== undefined) {
    uid = Number(user);
  } else {
    throw new Error(`shell: su user "${user}" is unknown on this node`);
  }
  if (group !== undefined) {
    if (/^\d+$/.test(group)) gid = Number(group);
    else {
      const g = readIdFile("/etc/group").get(group);
      if (g === undefined) throw new Error(`shell: su group "${group}" is unknown on this node`);
      gid = Number(g[2]);
    }
  }
  return { uid, gid: gid as number };
}

/**
 * Why this agent cannot run as `ids`, or undefined when it can: root can switch to anyone, and
 * any user can "switch" to itself. Anything else would fail in spawn with a bare EPERM.
 */
export function suRefusal(
  su: string,
  ids: { uid: number; gid: number },
  self: { uid: number; gid: number } | undefined,
): string | undefined {
  if (self === undefined || self.uid === 0) return undefined;
  if (ids.uid === self.uid && ids.gid === self.gid) return undefined;
  return `shell: su "${su}" cannot be honoured: switching to uid ${ids.uid} gid ${ids.gid} ` +
    `needs the agent to run as root, and it runs as uid ${self.uid} gid ${self.gid}; ` +
    `run the agent as root or remove su from the job`;
}

function decodeBase64(s: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) {
    throw new Error(`payload is not valid base64`);
  }
  return new Uint8Array(Buffer.from(s, "base64"));
}

/** Turns a config into what to spawn, or throws an Error whose message names the problem. */
function plan(config: Record<string, string>, jobName: string, strict: boolean): ShellPlan {
  for (const key of Object.keys(config)) {
    if (strict && !knownKeys.has(key)) {
      throw new Error(`shell: unknown key "${key}" (known: ${[...knownKeys].join(", ")})`);
    }
  }
  const command = config.command ?? "";
  if (command.trim() === "") throw new Error("shell: Command missing");
  if (command.includes("\0")) throw new Error("shell: command contains a NUL byte");
  const useShell = parseGoBool(config.shell ?? "");
  if (strict && useShell === undefined && (config.shell ?? "") !== "") {
    throw new Error(`shell: shell "${config.shell}" is not a boolean (use "true" or "false")`);
  }
  let argv: string[];
  if (useShell) {
    argv = process.platform === "win32" ? ["cmd", "/C", command] : ["/bin/sh", "-c", command];
  } else {
    try {
      argv = splitShellWords(command);
    } catch (e) {
      throw new Error(`shell: command ${JSON.stringify(command)}: ${(e as Error).message}`);
    }
    if (argv.length === 0) throw new Error("shell: Command missing");
  }
  const env: Record<string, string> = {};
  // The agent's secrets and its own token reach a job only through a redacted reference.
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !isAgentSecretEnv(k)) env[k] = v;
  }
  for (const pair of (config.env ?? "").split(",")) {
    if (pair.trim() === "") continue;
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new Error(`shell: env entry "${pair}" is not KEY=VALUE`);
    if (pair.includes("\0")) {
      throw new Error(`shell: env entry ${JSON.stringify(pair)} contains a NUL byte`);
    }
    env[pair.slice(0, eq).trim()] = pair.slice(eq + 1);
  }
  env.ENV_JOB_NAME = jobName;
  let timeoutMs: number | undefined;
  if ((config.timeout ?? "") !== "") {
    let ms: number;
    try {
      ms = parseGoDuration(config.timeout as string);
    } catch {
      throw new Error(`shell: timeout "${config.timeout}" is not a duration like 30s or 5m`);
    }
    if (!(ms > 0)) throw new Error(`shell: timeout "${config.timeout}" must be positive`);
    timeoutMs = ms;
  }
  let memLimitBytes: number | undefined;
  try {
    memLimitBytes = parseMemoryLimit(config.mem_limit ?? "");
  } catch (e) {
    throw new Error(`shell: ${(e as Error).message}`);
  }
  if (memLimitBytes !== undefined && process.platform !== "linux") {
    throw new Error("shell: mem_limit needs /proc and works on Linux only");
  }
  let stdin: Uint8Array | undefined;
  if ((config.payload ?? "") !== "") {
    try {
      stdin = decodeBase64(config.payload as string);
    } catch (e) {
      throw new Error(`shell: ${(e as Error).message}`);
    }
  }
  let su: ShellPlan["su"];
  if ((config.su ?? "") !== "") {
    const m = /^([^:\s]+)(?::([^:\s]+))?$/.exec(config.su as string);
    if (!m) throw new Error(`shell: su "${config.su}" is not user or user:group`);
    if (process.platform === "win32") throw new Error("shell: su works on Unix only");
    su = { user: m[1] as string, group: m[2] };
  }
  const killMode = config.kill_mode ?? "";
  if (killMode !== "" && killMode !== "control-group" && killMode !== "process") {
    throw new Error(
      `shell: kill_mode "${killMode}" must be "control-group" (default) or "process"`,
    );
  }
  const cwd = (config.cwd ?? "") === "" ? undefined : config.cwd;
  return {
    argv,
    env,
    cwd,
    timeoutMs,
    memLimitBytes,
    stdin,
    su,
    killMode: killMode === "process" ? "process" : "control-group",
  };
}

/** Resident bytes of every live process in process group `pgid` (Linux /proc). */
export function groupRssBytes(pgid: number): number {
  let total = 0;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) !== pgid) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, "utf8");
      const m = /VmRSS:\s+(\d+) kB/.exec(status);
      if (m) total += Number(m[1]) * 1024;
    } catch {
      continue;
    }
  }
  return total;
}

/** Does process group `pgid` still have a live member? */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false; // ESRCH: empty (EPERM cannot happen: the group runs as us or as su's user)
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** Shortens a command for messages: a 256 KiB script should not be repeated in the output. */
function short(command: string): string {
  return command.length <= 200 ? command : `${command.slice(0, 200)}...`;
}

async function run(req: ExecutionRequest): Promise<ExecutionResult> {
  const sink = new OutputSink(req);
  const fail = (error: string, exitCode: number | null = null): ExecutionResult =>
    failed(sink, error, exitCode);
  let p: ShellPlan;
  try {
    p = plan(req.config, req.jobName, false);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (p.cwd !== undefined && !(existsSync(p.cwd) && statSync(p.cwd).isDirectory())) {
    return fail(`shell: cwd "${p.cwd}" is not a directory`);
  }
  if (req.signal.aborted) return fail("shell: execution aborted before start");
  const command = short(req.config.command ?? "");
  const [file, ...args] = p.argv as [string, ...string[]];
  let ids: { uid: number; gid: number } | undefined;
  if (p.su !== undefined) {
    try {
      ids = resolveSu(p.su.user, p.su.group);
    } catch (e) {
      return fail((e as Error).message);
    }
    const self = typeof process.getuid === "function" && typeof process.getgid === "function"
      ? { uid: process.getuid(), gid: process.getgid() }
      : undefined;
    const refused = suRefusal(req.config.su ?? "", ids, self);
    if (refused !== undefined) return fail(refused);
  }
  let child: ChildProcess;
  try {
    child = spawn(file, args, {
      ...ids,
      cwd: p.cwd,
      env: p.env,
      detached: true, // setsid: the child leads a new process group (pgid = pid)
      stdio: [p.stdin ? "pipe" : "ignore", "pipe", "pipe"],
      windowsHide: true,
    });
  } catch (e) {
    return fail(`shell: cannot start ${JSON.stringify(file)}: ${(e as Error).message}`);
  }
  if (child.pid !== undefined) req.onSpawn?.(child.pid);
  return await new Promise<ExecutionResult>((resolve) => {
    let reason: "timeout" | "memory" | "abort" | "stray" | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let spawnError: Error | undefined;
    let done = false;
    const timers: Array<ReturnType<typeof setTimeout>> = [];
    const killFor = (why: NonNullable<typeof reason>, note: string): void => {
      if (reason !== undefined || done) return;
      reason = why;
      sink.note(note);
      killGroup(child);
    };
    const onAbort = () =>
      killFor("abort", `\nshell: Job '${command}' was aborted. Job was killed\n`);
    req.signal.addEventListener("abort", onAbort, { once: true });
    if (p.timeoutMs !== undefined) {
      const d = formatGoDuration(p.timeoutMs);
      timers.push(setTimeout(() => {
        killFor(
          "timeout",
          `\nshell: Job '${command}' execution time exceeding defined timeout ${d}. Job was killed\n`,
        );
      }, p.timeoutMs));
    }
    if (p.memLimitBytes !== undefined) {
      const limit = p.memLimitBytes;
      const check = setInterval(() => {
        if (child.pid === undefined || exit !== undefined) return;
        const rss = groupRssBytes(child.pid);
        if (rss > limit) {
          killFor(
            "memory",
            `\nshell: Job '${command}' memory usage (${rss} bytes) exceeding defined limit (${limit} bytes). Job was killed\n`,
          );
        }
      }, limits.shellMemCheckIntervalMs);
      timers.push(check);
    }
    child.stdout?.on("data", (c: Uint8Array) => sink.write(c));
    child.stderr?.on("data", (c: Uint8Array) => sink.write(c));
    if (p.stdin && child.stdin) {
      child.stdin.on("error", () => {}); // EPIPE when the command does not read its stdin
      child.stdin.end(p.stdin);
    }
    child.on("error", (e) => {
      spawnError = e;
      finish();
    });
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      // The main process is gone (and reaped), so its pid names only what it left behind: as
      // systemd's control-group kill mode, that is killed unless the job asked to keep it.
      if (p.killMode === "control-group" && child.pid !== undefined && groupAlive(child.pid)) {
        killFor(
          "stray",
          `\nshell: Job '${command}' left background processes; they were killed (set kill_mode "process" to keep them)\n`,
        );
      }
      // Output pipes close when every process holding them is gone. Processes left behind may
      // keep them open: give them a moment, then stop reading (killing them unless kept).
      timers.push(setTimeout(() => {
        if (done) return;
        if (p.killMode === "control-group") {
          killFor(
            "stray",
            `\nshell: Job '${command}' left background processes holding its output; they were killed\n`,
          );
        }
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }, limits.shellPipeDrainMs));
    });
    child.on("close", () => finish());

    function finish(): void {
      if (done) return;
      if (exit === undefined && spawnError === undefined) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      req.signal.removeEventListener("abort", onAbort);
      if (spawnError !== undefined) {
        resolve(fail(`shell: cannot start ${JSON.stringify(file)}: ${spawnError.message}`));
        return;
      }
      const { code, signal } = exit as NonNullable<typeof exit>;
      const ended = signal !== null ? `signal: ${signalWord(signal)}` : `exit status ${code}`;
      switch (reason) {
        case "timeout":
        case "memory":
          resolve(fail(signal !== null ? ended : `signal: killed (${ended})`, code));
          return;
        case "abort":
          resolve(fail("shell: execution aborted", code));
          return;
        case "stray":
        case undefined:
          if (code === 0) {
            resolve(ok(sink, 0));
          } else {
            resolve(fail(ended, code));
          }
          return;
      }
    }
  });
}

/** Go prints a signal by its description: "killed", "terminated", ... */
function signalWord(signal: NodeJS.Signals): string {
  const words: Partial<Record<NodeJS.Signals, string>> = {
    SIGKILL: "killed",
    SIGTERM: "terminated",
    SIGINT: "interrupt",
    SIGSEGV: "segmentation fault",
    SIGABRT: "aborted",
    SIGHUP: "hangup",
    SIGPIPE: "broken pipe",
  };
  return words[signal] ?? signal;
}

export const shellExecutor: Executor = {
  name: "shell",
  validate(config) {
    try {
      const p = plan(config, "validate", true);
      if (p.cwd !== undefined && p.cwd.includes("\0")) return `shell: cwd "${p.cwd}" is not a path`;
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  },
  run,
};
