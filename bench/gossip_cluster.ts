/**
 * Helpers to run gossip nodes as real processes (test/fixtures/gossip_node.ts) and watch their
 * JSON event lines. Used by test/gossip_process_test.ts and bench/gossip_process.ts.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

const fixture = join(import.meta.dir, "..", "test", "fixtures", "gossip_node.ts");
const denoBin = join(import.meta.dir, "..", "node_modules", ".bin", "deno");

/** Which runtime runs a node process. */
export type Runtime = "bun" | "deno";

export interface NodeLine {
  type: string;
  name?: string;
  addr?: string;
  inc?: number;
  tags?: Record<string, string>;
  t?: number;
  [k: string]: unknown;
}

export class NodeProc {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly lines: NodeLine[] = [];
  addr = "";
  stderr = "";

  constructor(name: string, args: string[], runtime: Runtime = "bun") {
    this.name = name;
    const argv = [fixture, "--name", name, ...args];
    this.proc = runtime === "bun"
      ? spawn(process.execPath, argv, { stdio: ["pipe", "pipe", "pipe"] })
      : spawn(denoBin, ["run", "-A", ...argv], { stdio: ["pipe", "pipe", "pipe"] });
    let buf = "";
    this.proc.stdout?.on("data", (c: Uint8Array) => {
      buf += c.toString();
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          const l = JSON.parse(line) as NodeLine;
          if (l.type === "ready") this.addr = l.addr ?? "";
          this.lines.push(l);
        } catch {
          this.stderr += `unparsed: ${line}\n`;
        }
      }
    });
    this.proc.stderr?.on("data", (c: Uint8Array) => (this.stderr += c.toString()));
  }

  send(cmd: string): void {
    this.proc.stdin?.write(cmd + "\n");
  }

  /** First event of `type` about `about`, at or after wall time `since`. */
  find(type: string, about: string, since = 0): NodeLine | undefined {
    return this.lines.find((l) => l.type === type && l.name === about && (l.t ?? 0) >= since);
  }

  signal(sig: NodeJS.Signals): void {
    if (this.proc.pid !== undefined) process.kill(this.proc.pid, sig);
  }

  stop(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill("SIGKILL");
  }
}

/** Polls `cond` every 20 ms until it holds or `deadlineMs` passes; throws with `what()` on timeout. */
export async function until(
  cond: () => boolean,
  deadlineMs: number,
  what: () => string,
): Promise<void> {
  const end = performance.now() + deadlineMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out after ${deadlineMs} ms: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts n nodes: the first alone, the rest joining it. Resolves once all are bound. */
export async function startCluster(
  n: number,
  args: string[],
  prefix = "n",
  runtimeOf: (i: number) => Runtime = () => "bun",
): Promise<NodeProc[]> {
  const first = new NodeProc(`${prefix}0`, args, runtimeOf(0));
  await until(() => first.addr !== "", 15_000, () => `${first.name} never ready: ${first.stderr}`);
  const rest = Array.from(
    { length: n - 1 },
    (_, i) => new NodeProc(`${prefix}${i + 1}`, [...args, "--join", first.addr]),
  );
  const all = [first, ...rest];
  await until(
    () => all.every((p) => p.addr !== ""),
    15_000,
    () => all.filter((p) => p.addr === "").map((p) => `${p.name}: ${p.stderr}`).join("; "),
  );
  return all;
}

/** Names each node currently believes alive (from its join/failed/leave event lines). */
export function aliveView(p: NodeProc): Set<string> {
  const alive = new Set<string>([p.name]);
  for (const l of p.lines) {
    if (l.name === undefined) continue;
    if (l.type === "join") alive.add(l.name);
    if (l.type === "failed" || l.type === "leave" || l.type === "reap") alive.delete(l.name);
  }
  return alive;
}
