/**
 * Builds and starts the Go test servers in test/fixtures/gobrokers (franz-go's kfake Kafka
 * broker, a grpc-go server with reflection). The build is cached in the temp dir under a hash
 * of the sources, so only the first test run on a machine pays for it (and its module download).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./proc.ts";

const src = join(repoRoot, "test/fixtures/gobrokers");

function sourceHash(): string {
  const h = createHash("sha256");
  const walk = (dir: string) => {
    for (
      const name of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
        a.name < b.name ? -1 : 1
      )
    ) {
      const p = join(dir, name.name);
      if (name.isDirectory()) walk(p);
      else if (/\.(go|mod|sum)$/.test(name.name)) {
        h.update(p.slice(src.length)).update(readFileSync(p));
      }
    }
  };
  walk(src);
  return h.digest("hex").slice(0, 16);
}

let built: Promise<string> | undefined;

/** The directory holding the built binaries `kfake` and `grpcserver`; builds them once. */
export function goBrokersBin(): Promise<string> {
  built ??= (async () => {
    const dir = join(tmpdir(), `tock-gobrokers-${sourceHash()}`);
    if (existsSync(join(dir, "kfake")) && existsSync(join(dir, "grpcserver"))) return dir;
    const staging = mkdtempSync(join(tmpdir(), "tock-gobrokers-build-"));
    const go = existsSync("/usr/local/go/bin/go") ? "/usr/local/go/bin/go" : "go";
    await new Promise<void>((resolve, reject) => {
      execFile(
        go,
        ["build", "-o", staging, "./..."],
        { cwd: src, timeout: 600_000 },
        (err, _o, stderr) =>
          err
            ? reject(
              new Error(`go build of test/fixtures/gobrokers failed: ${err.message}\n${stderr}`),
            )
            : resolve(),
      );
    });
    mkdirSync(dir, { recursive: true });
    for (const bin of ["kfake", "grpcserver"]) renameSync(join(staging, bin), join(dir, bin));
    rmSync(staging, { recursive: true, force: true });
    return dir;
  })();
  return built;
}

export interface GoServer {
  /** host:port it listens on. */
  addr: string;
  proc: ChildProcess;
  output(): string;
  stop(): void;
}

/** Starts a built Go test server and waits for its "LISTENING host:port" line. */
export async function startGoServer(
  name: "kfake" | "grpcserver",
  args: string[] = [],
  timeoutMs = 20_000,
): Promise<GoServer> {
  const bin = join(await goBrokersBin(), name);
  const proc = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout?.on("data", (d) => (out += d.toString()));
  proc.stderr?.on("data", (d) => (out += d.toString()));
  const addr = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not listen in ${timeoutMs} ms: ${out}`)),
      timeoutMs,
    );
    const check = () => {
      const m = /LISTENING (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    };
    proc.stdout?.on("data", check);
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before listening: ${out}`));
    });
  });
  return {
    addr,
    proc,
    output: () => out,
    stop: () => {
      if (proc.pid !== undefined && proc.exitCode === null) process.kill(proc.pid, "SIGKILL");
    },
  };
}
