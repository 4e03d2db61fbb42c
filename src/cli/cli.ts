/**
 * `tock` commands. runCli returns the process exit code; it never calls exit itself, so tests
 * can drive it in-process.
 */
import { parseArgs } from "node:util";
import { setLogLevel } from "../api/mod.ts";
import { errorMessage, invalid, isTockError } from "../lib/mod.ts";
import { generateKey } from "../net/mod.ts";
import type { NodeIo } from "../node/mod.ts";
import { startAgent } from "./agent.ts";
import { membersCli } from "./members.ts";
import { leaveCli, raftCli } from "./raft_ops.ts";
import type { Runtime } from "../runtime/mod.ts";
import { aclCommand, auditCommand } from "./acl_cli.ts";
import { keyringCommand, keyringUsage } from "./keyring.ts";
import { execCommand, jobCommand } from "./client.ts";
import { connectionFetch, connectionFrom } from "./http_client.ts";
import { readTls } from "./security_config.ts";
import { tlsCommand } from "./tls_cli.ts";
import { completionScript } from "./completion.ts";
import { prepareDataDir } from "./data_dir.ts";
import { helpFor, missingSubcommand, subcommands, wantsHelp } from "./help.ts";
import { runAndWait } from "./wait.ts";
import {
  type AgentConfig,
  pluginNotifyFlags,
  type RawConfig,
  readConfigFile,
  readEnv,
  resolveConfig,
} from "./config.ts";

export const version = "0.1.0";

export const usage = `tock ${version}: a distributed, fault-tolerant cron (Dkron-compatible API)

Usage:
  tock agent [--dev] [--server] [--bootstrap-expect N] [--data-dir DIR] [--http-addr HOST:PORT]
             [--node-name NAME] [--tag k=v ...] [--config FILE] [--ui=false] [--log-level LEVEL]
             [--plugin-dir DIR] [--webhook-endpoint URL --webhook-payload TEMPLATE ...]
             [--pre-webhook-*] [--mail-host HOST --mail-port N ...] [--notify-when always|failure|change]
  tock job ls | get NAME | apply -f FILE | run NAME [--force] [--wait] | next NAME [N] | delete NAME | toggle NAME
  tock exec ls JOB | get JOB ID | kill JOB ID
  tock members [--json] | leave | raft list-peers | raft remove-peer ID | raft transfer-leader [ID]
  tock acl bootstrap | token create --name N [--type client|management] [--policy P ...] | token list
           | token self | token delete ACCESSOR | policy apply -r FILE | policy list | policy info NAME
           | policy delete NAME
  tock audit [--after SEQ] [--limit N]
  ${keyringUsage}
  tock tls ca create [--dir DIR] [--days N] | tls cert create --server|--client [--ca FILE] [--key FILE]
           [--additional-dnsname NAME ...] [--additional-ipaddress IP ...]
  (client commands take --address URL, --token SECRET, --ca-file, --cert-file, --key-file)
  tock keygen [--bytes 16|24|32]
  tock version
  tock completion bash|zsh|fish

Agent config precedence: flags > environment (TOCK_SERVER, TOCK_HTTP_ADDR, TOCK_TAGS="k=v,k2=v2", ...)
> config file (YAML or JSON, --config) > defaults. --dev: one-node server on 127.0.0.1:8080, data in ./tock-data.
Client commands use --address or TOCK_ADDR (default http://127.0.0.1:8080), --token or TOCK_TOKEN,
--ca-file or TOCK_CACERT, --cert-file/--key-file or TOCK_CLIENT_CERT/TOCK_CLIENT_KEY.
Security: without --acl-enabled the API listens on loopback only; --insecure-api accepts an open
API on another address. HTTPS: --cert-file, --key-file [--trusted-ca-file FILE --client-cert-auth].
Every command takes --help (-h), e.g. tock job run --help.
`;

export interface CliIo {
  runtime: Runtime;
  out(line: string): void;
  err(line: string): void;
  /** Builds the node's IO (executors, output store); injected so tests can swap nothing but paths. */
  nodeIo(): NodeIo;
  /** Raw bytes to stdout (a run's output under `tock job run --wait`). */
  write(chunk: Uint8Array): void;
}

export async function runCli(io: CliIo, argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== undefined && wantsHelp(rest)) {
    const help = helpFor(command, rest.find((a) => !a.startsWith("-")));
    if (help !== undefined) {
      io.out(help);
      return 0;
    }
  }
  try {
    switch (command) {
      case "agent":
        return await agent(io, rest);
      case "job":
      case "exec": {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: {
            address: { type: "string", short: "a" },
            file: { type: "string", short: "f" },
            force: { type: "boolean" },
            wait: { type: "boolean", short: "w" },
            ...connectionOptions,
          },
        });
        const client = { ...connectionFrom(values, io.runtime.env), out: io.out };
        const [sub, ...args] = positionals;
        if (!subcommands[command].some(([s]) => s === sub) && sub !== "list") {
          io.err(missingSubcommand(command, sub));
          return 2;
        }
        if (command === "job" && sub === "run" && values.wait) {
          if (!args[0]) throw new Error("tock job run: missing job name");
          return await runAndWait(
            {
              address: client.address,
              token: client.token,
              fetch: connectionFetch(client),
              write: io.write,
              err: io.err,
            },
            args[0],
            values.force ?? false,
          );
        }
        if (command === "job") {
          await jobCommand(client, sub, args, values.file, values.force ?? false);
        } else await execCommand(client, sub, args);
        return 0;
      }
      case "members":
        return await membersCli(io.runtime.env, io.out, rest);
      case "raft":
        return await raftCli(io.runtime.env, io.out, rest);
      case "leave":
        return await leaveCli(io.runtime.env, io.out, rest);
      case "acl":
      case "audit":
      case "keyring": {
        // Connection flags may sit anywhere; the subcommands parse the rest themselves.
        const conn = rest.filter((a, i) => isConnectionArg(rest, i, a));
        const others = rest.filter((a, i) => !isConnectionArg(rest, i, a));
        const { values } = parseArgs({
          args: conn,
          options: { address: { type: "string", short: "a" }, ...connectionOptions },
        });
        const client = { ...connectionFrom(values, io.runtime.env), out: io.out };
        if (command === "acl") await aclCommand(client, others);
        else if (command === "keyring") await keyringCommand(client, others);
        else await auditCommand(client, others);
        return 0;
      }
      case "tls":
        await tlsCommand(io.out, io.runtime.nowMs(), rest);
        return 0;
      case "keygen": {
        const { values } = parseArgs({
          args: rest,
          options: { bytes: { type: "string", default: "32" } },
        });
        const n = Number(values.bytes);
        if (![16, 24, 32].includes(n)) {
          throw new Error(`--bytes must be 16, 24 or 32 (AES-128/192/256), got ${values.bytes}`);
        }
        io.out(generateKey(n as 16 | 24 | 32));
        return 0;
      }
      case "version":
        io.out(
          `Name: Tock\nVersion: ${version}\nRuntime: ${io.runtime.name} ${io.runtime.version}`,
        );
        return 0;
      case "completion": {
        const script = completionScript(rest[0] ?? "");
        if (!script) {
          throw new Error(`completion: unknown shell "${rest[0] ?? ""}"; use bash, zsh or fish`);
        }
        io.out(script);
        return 0;
      }
      case "help": {
        const help = rest[0] === undefined ? usage : helpFor(rest[0], rest[1]);
        if (help === undefined) throw new Error(`help: unknown command "${rest[0]}"`);
        io.out(help);
        return 0;
      }
      case undefined:
      case "-h":
      case "--help":
        io.out(usage);
        return command === undefined ? 2 : 0;
      default:
        io.err(`tock: unknown command "${command}"\n\n${usage}`);
        return 2;
    }
  } catch (e) {
    io.err(`tock: ${errorMessage(e)}`);
    return 1;
  }
}

export function agentConfig(io: CliIo, args: string[]): AgentConfig {
  const { values } = parseArgs({
    args,
    options: {
      dev: { type: "boolean" },
      server: { type: "boolean" },
      "bootstrap-expect": { type: "string" },
      "data-dir": { type: "string" },
      "http-addr": { type: "string" },
      "bind-addr": { type: "string" },
      "advertise-addr": { type: "string" },
      "rpc-port": { type: "string" },
      "advertise-rpc-port": { type: "string" },
      join: { type: "string", multiple: true },
      "retry-join": { type: "string", multiple: true },
      "retry-interval": { type: "string" },
      "retry-max": { type: "string" },
      region: { type: "string" },
      datacenter: { type: "string" },
      encrypt: { type: "string" },
      "raft-multiplier": { type: "string" },
      profile: { type: "string" },
      "failed-server-grace": { type: "string" },
      "node-name": { type: "string" },
      tag: { type: "string", multiple: true },
      config: { type: "string" },
      ui: { type: "string" },
      "log-level": { type: "string" },
      ...pluginNotifyFlags,
      "acl-enabled": { type: "boolean" },
      "insecure-api": { type: "boolean" },
      "cert-file": { type: "string" },
      "key-file": { type: "string" },
      "trusted-ca-file": { type: "string" },
      "client-cert-auth": { type: "boolean" },
      "audit-max-entries": { type: "string" },
      "audit-max-age": { type: "string" },
    },
  });
  const flags: RawConfig = {};
  for (const [k, v] of Object.entries(values)) {
    if (k === "config" || v === undefined) continue;
    (flags as Record<string, unknown>)[k] = { value: v, source: `flag --${k}` };
  }
  const path = values.config ?? io.runtime.env("TOCK_CONFIG");
  const file = path ? readConfigFile(path) : { raw: {}, warnings: [] };
  const cfg = resolveConfig(file.raw, readEnv(io.runtime.env), flags);
  cfg.warnings = file.warnings;
  for (const w of cfg.warnings) io.err(`tock: warning: ${w}`);
  return cfg;
}

async function agent(io: CliIo, args: string[]): Promise<number> {
  const cfg = agentConfig(io, args);
  setLogLevel(cfg.logLevel);
  const dataDir = prepareDataDir(cfg.dataDir);
  const node = await startAgent(
    {
      ...cfg,
      dataDir,
      version,
      aclEnabled: cfg.security.aclEnabled,
      audit: { maxEntries: cfg.security.auditMaxEntries, maxAgeMs: cfg.security.auditMaxAgeMs },
      ...(cfg.security.tls === undefined ? {} : { tls: readTls(cfg.security.tls) }),
    },
    io.nodeIo(),
  ).catch((e) => {
    // SQLite names the problem ("readonly database") but not where: add the data dir.
    if (isTockError(e) || !/database|sqlite/i.test(errorMessage(e))) throw e;
    throw invalid(`data dir ${dataDir}: ${errorMessage(e)}`);
  });
  if (!cfg.security.aclEnabled && cfg.security.insecureApi) {
    io.err(
      "tock: WARNING: --insecure-api: the HTTP API has no ACLs; anyone who reaches it can run commands",
    );
  }
  io.out(
    `tock: node ${cfg.nodeName} (${io.runtime.name} ${io.runtime.version}), data in ${cfg.dataDir}`,
  );
  io.out(
    `tock: node id ${node.node.nodeId}, rpc on ${node.node.rpcAddr}, gossip on ${node.node.membership.gossipAddr}`,
  );
  io.out(`tock: listening on ${node.url}`);
  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      io.out(`tock: ${sig} received, draining`);
      node.stop().then(
        () => {
          io.out("tock: stopped");
          resolve(0);
        },
        (e) => {
          io.err(`tock: stop failed: ${errorMessage(e)}`);
          resolve(1);
        },
      );
    };
    const tls = cfg.security.tls;
    if (tls !== undefined) {
      io.runtime.onSignal("SIGHUP", () => {
        let pem;
        try {
          pem = readTls(tls);
        } catch (e) {
          io.err(`tock: SIGHUP: certificates not reloaded: ${errorMessage(e)}`);
          return;
        }
        node.reloadTls(pem).then(
          () => io.out("tock: SIGHUP: certificates reloaded"),
          (e) => io.err(`tock: SIGHUP: certificates not reloaded: ${errorMessage(e)}`),
        );
      });
    }
    io.runtime.onSignal("SIGTERM", () => stop("SIGTERM"));
    void node.left.then(() => stop("leave"));
    io.runtime.onSignal("SIGINT", () => stop("SIGINT"));
  });
}

/** Flags every client command takes to reach an agent (see http_client.ts). */
const connectionOptions = {
  token: { type: "string" },
  "ca-file": { type: "string" },
  "cert-file": { type: "string" },
  "key-file": { type: "string" },
} as const;

/** Whether rest[i] is a connection flag or its value (removed before subcommand parsing). */
function isConnectionArg(rest: string[], i: number, a: string): boolean {
  const names = ["--address", "-a", "--token", "--ca-file", "--cert-file", "--key-file"];
  if (names.some((n) => a.startsWith(`${n}=`)) || names.includes(a)) return true;
  const prev = rest[i - 1];
  return prev !== undefined && names.includes(prev);
}
