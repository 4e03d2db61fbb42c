/**
 * External executor plugins (proto/tock/v1/plugin.proto has the protocol): one plugin process
 * per run, spoken to with Connect (JSON over HTTP/1.1) on a unix socket in a private temp dir.
 * The process runs in its own group and is killed when the run ends, so a plugin that crashes,
 * hangs or leaks children fails only its own run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ExecutorPluginService } from "../gen/tock/v1/plugin_pb.ts";
import { limits } from "../lib/mod.ts";
import { failed, ok } from "./_bounded.ts";
import { withSecrets } from "./secrets.ts";
import {
  type ExecutionRequest,
  type ExecutionResult,
  type Executor,
  OutputSink,
} from "./_types.ts";

export const pluginProtocolVersion = 1;
const prefix = "tock-executor-";

/** Waits for "TOCK_PLUGIN 1 unix <path>" on the plugin's stdout. */
function handshakeLine(child: ChildProcess, stderr: () => string, signal: AbortSignal) {
  return new Promise<{ version: number; path: string }>((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(
      () => end(new Error(`printed no handshake line within ${limits.pluginHandshakeMs} ms`)),
      limits.pluginHandshakeMs,
    );
    const onAbort = () => end(new Error("execution aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    const onData = (d: Buffer) => {
      seen += d.toString();
      const nl = seen.indexOf("\n");
      if (nl < 0) {
        if (seen.length > limits.pluginHandshakeBytesMax) end(new Error("handshake line too long"));
        return;
      }
      const m = /^TOCK_PLUGIN (\d+) unix (\S+)\s*$/.exec(seen.slice(0, nl));
      if (!m) end(new Error(`bad handshake line ${JSON.stringify(seen.slice(0, nl))}`));
      else end(undefined, { version: Number(m[1]), path: m[2] as string });
    };
    const onExit = (code: number | null, sig: string | null) =>
      end(new Error(`exited (${code ?? sig}) before its handshake${tailOf(stderr())}`));
    child.stdout?.on("data", onData);
    child.on("exit", onExit);
    child.on("error", (e) => end(e));
    function end(e?: Error, v?: { version: number; path: string }) {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
      if (e) reject(e);
      else resolve(v as { version: number; path: string });
    }
  });
}

function tailOf(stderr: string): string {
  const t = stderr.trim();
  return t === "" ? "" : `; stderr: ${t.slice(-500)}`;
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch { /* already gone */ }
}

/** An executor served by the plugin executable at `path`. */
export function pluginExecutor(name: string, path: string, tockVersion = "tock"): Executor {
  async function run(req: ExecutionRequest): Promise<ExecutionResult> {
    const sink = new OutputSink(req);
    if (req.signal.aborted) return failed(sink, `plugin ${name}: execution aborted before start`);
    const dir = mkdtempSync(join(tmpdir(), "tock-plugin-"));
    const socket = join(dir, "plugin.sock");
    let child: ChildProcess;
    try {
      child = spawn(path, [], {
        env: {
          ...process.env,
          TOCK_PLUGIN_PROTOCOL: String(pluginProtocolVersion),
          TOCK_PLUGIN_SOCKET: socket,
        },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true, // its own process group: killed whole when the run ends
      });
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      return failed(sink, `plugin ${name}: cannot start ${path}: ${(e as Error).message}`);
    }
    if (child.pid !== undefined) req.onSpawn?.(child.pid);
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4_096);
    });
    let exited: string | undefined;
    const exitedP = new Promise<void>((resolve) => {
      child.on("exit", (code, sig) => {
        exited = sig ? `killed by ${sig}` : `exit code ${code}`;
        resolve();
      });
      child.on("error", (e) => {
        exited = e.message;
        resolve();
      });
    });
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    req.signal.addEventListener("abort", onAbort, { once: true });
    // A crash mid-call shows as a reset connection; name the crash rather than the socket error.
    exitedP.then(() => abort.abort());
    const why = async (stage: string, e: unknown): Promise<string> => {
      if (req.signal.aborted) return `plugin ${name}: execution aborted`;
      // A crash shows first as a broken stream; give the exit a moment to be reported.
      let t: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        exitedP,
        new Promise((r) => (t = setTimeout(r, limits.pluginExitWaitMs))),
      ]);
      clearTimeout(t);
      if (exited !== undefined) {
        return `plugin ${name} crashed during ${stage}: ${exited}${tailOf(stderr)}`;
      }
      const m = e instanceof ConnectError
        ? `${Code[e.code]}: ${e.rawMessage}`
        : (e as Error).message;
      return `plugin ${name}: ${stage} failed: ${m}`;
    };
    try {
      let hs: { version: number; path: string };
      try {
        hs = await handshakeLine(child, () => stderr, abort.signal);
      } catch (e) {
        const m = req.signal.aborted ? "execution aborted" : (e as Error).message;
        return failed(sink, `plugin ${name}: ${m}`);
      }
      // Output travels in Execute; later stdout is read and dropped (flowing, no listener needed
      // after this one) so a chatty plugin never blocks on a full pipe.
      child.stdout?.resume();
      if (hs.version !== pluginProtocolVersion) {
        return failed(
          sink,
          `plugin ${name} speaks protocol ${hs.version}; this Tock speaks ${pluginProtocolVersion}`,
        );
      }
      const client = createClient(
        ExecutorPluginService,
        createConnectTransport({
          baseUrl: "http://plugin",
          httpVersion: "1.1",
          useBinaryFormat: false, // JSON: a plugin in any language needs no protobuf library
          nodeOptions: { socketPath: hs.path },
        }),
      );
      const opts = { signal: abort.signal };
      let hello;
      try {
        hello = await client.handshake({ protocolVersion: pluginProtocolVersion, tockVersion }, {
          ...opts,
          timeoutMs: limits.pluginHandshakeMs,
        });
      } catch (e) {
        return failed(sink, await why("handshake", e));
      }
      if (hello.protocolVersion !== pluginProtocolVersion) {
        return failed(
          sink,
          `plugin ${name} speaks protocol ${hello.protocolVersion}; this Tock speaks ${pluginProtocolVersion}`,
        );
      }
      try {
        const conf = await client.configure({ config: req.config }, opts);
        if (conf.error !== "") return failed(sink, `plugin ${name}: ${conf.error}`);
      } catch (e) {
        return failed(sink, await why("configure", e));
      }
      try {
        for await (
          const m of client.execute({
            jobName: req.jobName,
            executionId: req.executionId,
            config: req.config,
          }, opts)
        ) {
          if (m.event.case === "output") sink.write(m.event.value);
          else if (m.event.case === "result") {
            const r = m.event.value;
            const code = r.exitCode ?? null;
            return r.success
              ? ok(sink, code)
              : failed(sink, r.error || `plugin ${name}: failed`, code);
          }
        }
      } catch (e) {
        return failed(sink, await why("execute", e));
      }
      if (exited !== undefined) return failed(sink, await why("execute", undefined));
      return failed(sink, `plugin ${name}: the stream ended without a result`);
    } finally {
      req.signal.removeEventListener("abort", onAbort);
      killGroup(child);
      rmSync(dir, { recursive: true, force: true });
    }
  }

  return {
    name,
    // Plugins validate their config in Configure, at the start of each run: asking at create
    // time would start a process inside the job-create request.
    validate: () => undefined,
    run,
  };
}

/**
 * Executors from `dir`: every executable regular file named tock-executor-<name>, the name
 * lower-cased. Names of built-ins are refused (`problems` says so), as are files past pluginsMax.
 */
export function loadPlugins(
  dir: string,
  builtIn: ReadonlySet<string>,
  tockVersion?: string,
): { executors: Map<string, Executor>; problems: string[] } {
  const executors = new Map<string, Executor>();
  const problems: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    return { executors, problems: [`plugin-dir ${dir} cannot be read: ${(e as Error).message}`] };
  }
  for (const file of names) {
    if (!file.startsWith(prefix)) continue;
    const name = file.slice(prefix.length).toLowerCase();
    const path = join(dir, file);
    if (!/^[a-z0-9_-]+$/.test(name)) {
      problems.push(`plugin ${path}: name "${name}" may only have letters, digits, "_" and "-"`);
      continue;
    }
    try {
      if (!statSync(path).isFile()) continue;
      accessSync(path, constants.X_OK);
    } catch {
      problems.push(`plugin ${path} is not an executable file; skipped`);
      continue;
    }
    if (builtIn.has(name) || executors.has(name)) {
      problems.push(`plugin ${path}: executor "${name}" already exists; skipped`);
      continue;
    }
    if (executors.size >= limits.pluginsMax) {
      problems.push(`plugin ${path}: more than ${limits.pluginsMax} plugins; skipped`);
      continue;
    }
    // Like the built-ins: ${env:TOCK_SECRET_*} / ${file:...} in its config resolved and redacted.
    executors.set(name, withSecrets(pluginExecutor(name, path, tockVersion)));
  }
  return { executors, problems };
}
