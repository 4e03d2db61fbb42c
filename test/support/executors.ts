/** Runs one executor the way the runner does, collecting output, for executor tests. */
import { Buffer } from "node:buffer";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { limits } from "../../src/lib/mod.ts";
import type { ExecutionResult, Executor } from "../../src/executor/mod.ts";

export async function runExecutor(
  executor: Executor,
  config: Record<string, string>,
  opts: { signal?: AbortSignal; jobName?: string } = {},
): Promise<ExecutionResult & { output: string }> {
  const chunks: Uint8Array[] = [];
  const result = await executor.run({
    executionId: "20260101000000-1",
    jobName: opts.jobName ?? "job1",
    executor: executor.name,
    config,
    signal: opts.signal ?? new AbortController().signal,
    onOutput: (c) => chunks.push(c.slice()),
    outputBytesMax: limits.outputBytesMax,
  });
  return { ...result, output: Buffer.concat(chunks).toString() };
}

/**
 * Established TCP connections of this process to 127.0.0.1:port (Linux: /proc/net/tcp rows
 * whose socket inode is one of this process's file descriptors). Other processes' connections
 * to a shared server are not counted.
 */
export function ownConnectionsTo(port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1] as string);
    } catch { /* closed meanwhile */ }
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  let n = 0;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[2]?.endsWith(`:${hexPort}`) && f[3] === "01" && inodes.has(f[9] as string)) n++;
    }
  }
  return n;
}
