/**
 * Start-up figures for the single binary: file size, and the time from spawn to the first
 * HTTP 200 from /health (p50/p99 over N starts, each from a fresh empty directory), side by
 * side for the compiled binary (scripts/compile.ts default: --bytecode), the plain compiled
 * binary (--no-bytecode), and `bun src/main.ts`.
 * Usage: bun bench/startup.ts [--runs 20] [--skip-compile]
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { compile } from "../scripts/compile.ts";

const root = resolve(import.meta.dir, "..");
const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    runs: { type: "string", default: "20" },
    "skip-compile": { type: "boolean", default: false },
  },
});
const runs = Number(values.runs);
/** A start that takes longer than this is reported as a failure, not a figure. */
const startDeadlineMs = 15_000;

/** A free TCP port: bind port 0, read it, close (the tiny reuse race is fine for a bench). */
function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      s.close(() => (typeof addr === "object" && addr !== null ? ok(addr.port) : fail(addr)));
    });
  });
}

/** Spawns one server in an empty dir; returns ms from spawn to the first 200 on /health. */
async function startOnce(cmd: string[]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "tock-start-"));
  const port = await freePort();
  const t0 = performance.now();
  const proc = Bun.spawn([...cmd, "agent", "--dev", "--http-addr", `127.0.0.1:${port}`], {
    cwd: dir,
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    while (performance.now() - t0 < startDeadlineMs) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health`);
        if (res.status === 200) return performance.now() - t0;
      } catch {
        // not listening yet
      }
      if (proc.exitCode !== null) throw new Error(`${cmd.join(" ")} exited ${proc.exitCode}`);
      await Bun.sleep(2);
    }
    throw new Error(`${cmd.join(" ")}: no 200 from /health within ${startDeadlineMs} ms`);
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

function pct(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)] as number;
}

const variants: Array<{ name: string; cmd: string[]; file?: string }> = [
  { name: "dist/tock (compiled, --bytecode)", cmd: [join(root, "dist/tock")], file: "dist/tock" },
  {
    name: "dist/tock-plain (compiled, --no-bytecode)",
    cmd: [join(root, "dist/tock-plain")],
    file: "dist/tock-plain",
  },
  { name: "bun src/main.ts (source)", cmd: [process.execPath, join(root, "src/main.ts")] },
];

if (!values["skip-compile"]) {
  const a = await compile({
    entry: "src/main.ts",
    outfile: "dist/tock",
    bytecode: true,
    skipUi: false,
  });
  const b = await compile({
    entry: "src/main.ts",
    outfile: "dist/tock-plain",
    bytecode: false,
    skipUi: true,
  });
  const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(`compile: dist/tock (--bytecode) ${sec(a.ms)}, dist/tock-plain ${sec(b.ms)}`);
}

console.log(`start → first HTTP 200 on /health, ${runs} starts each, fresh empty dir per start`);
for (const v of variants) {
  // One unmeasured start warms the page cache so every variant is measured the same way.
  await startOnce(v.cmd);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await startOnce(v.cmd));
  times.sort((x, y) => x - y);
  const size = v.file === undefined
    ? ""
    : `  size ${(statSync(join(root, v.file)).size / 1e6).toFixed(1)} MB`;
  const p50 = pct(times, 50).toFixed(1);
  const p99 = pct(times, 99).toFixed(1);
  const min = (times[0] as number).toFixed(1);
  console.log(`${v.name.padEnd(42)} p50 ${p50} ms  p99 ${p99} ms  min ${min} ms${size}`);
}
