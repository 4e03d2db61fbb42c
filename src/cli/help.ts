/**
 * Usage text of every command and subcommand, printed for `--help`/`-h` anywhere on the line and
 * when a subcommand is missing or unknown. One table, so a new subcommand shows up everywhere.
 */
import { agentSecurityFlags, securityHelp } from "./security_help.ts";

const address =
  "  --address, -a URL   the agent to talk to (default $TOCK_ADDR, else http://127.0.0.1:8080)";

const agentHelp = `Usage: tock agent [flags]

Runs a Tock node: the scheduler, the executors, the REST/Connect API and the web UI.

Flags:
  --dev                 one-node server on 127.0.0.1:8080, data in ./tock-data
  --server              run as a server (this version runs servers only)
  --bootstrap-expect N  servers to wait for before electing a leader
  --data-dir DIR        where state and output are stored
  --http-addr HOST:PORT address of the API and UI
  --node-name NAME      this node's name (default: the host name)
  --tag k=v             a node tag (repeatable)
  --config FILE         a YAML or JSON config file (also $TOCK_CONFIG)
  --ui=false            do not serve the web UI
  --log-level LEVEL     debug, info, warn or error
  --plugin-dir DIR      executor plugins (tock-executor-<name> files) to load
  --webhook-endpoint URL, --webhook-payload TEMPLATE, --webhook-headers "Name: value"
                        POST a templated notification after each run (pre-webhook-*: at start)
  --mail-host HOST, --mail-port N, --mail-from ADDR, --mail-username, --mail-password,
  --mail-payload, --mail-subject-prefix
                        mail the job's owner_email after each run
  --notify-when WHEN    always (default), failure or change

Precedence: flags > environment (TOCK_SERVER, TOCK_HTTP_ADDR, TOCK_TAGS="k=v,k2=v2", ...)
> config file > defaults.`;

/** Subcommands of `tock job` and `tock exec`: their argument line and one sentence. */
export const subcommands: Record<"job" | "exec", Array<[string, string, string]>> = {
  job: [
    ["ls", "", "List all jobs with their schedule, next run and status."],
    ["get", "NAME", "Print one job as JSON."],
    ["apply", "-f FILE", "Create or replace the jobs in FILE (one job or a list; JSON or YAML)."],
    [
      "run",
      "NAME [--force] [--wait]",
      "Start a run now. --force ignores concurrency forbid; --wait streams its output and exits with its exit code.",
    ],
    ["next", "NAME [N]", "Print the next N (default 5) scheduled times of a job."],
    ["delete", "NAME", "Delete a job."],
    ["toggle", "NAME", "Disable an enabled job, or enable a disabled one."],
  ],
  exec: [
    ["ls", "JOB", "List the executions of a job."],
    ["get", "JOB ID", "Print one execution as JSON, with its output."],
    ["kill", "JOB ID", "Kill a running execution (its whole process group)."],
  ],
};

function groupHelp(group: "job" | "exec"): string {
  const rows = subcommands[group];
  const width = Math.max(...rows.map(([s, a]) => `${s} ${a}`.length)) + 2;
  const lines = rows.map(([s, a, d]) => `  ${`${s} ${a}`.padEnd(width)}${d}`);
  return `Usage: tock ${group} <subcommand> [args] [--address URL]

Subcommands:
${lines.join("\n")}

Flags:
${address}

Run "tock ${group} <subcommand> --help" for one subcommand.`;
}

function subHelp(group: "job" | "exec", sub: string): string | undefined {
  const row = subcommands[group].find(([s]) => s === sub || (sub === "list" && s === "ls"));
  if (!row) return undefined;
  const [s, args, what] = row;
  return `Usage: tock ${group} ${s}${args ? ` ${args}` : ""} [--address URL]

${what}

Flags:
${address}`;
}

const simple: Record<string, string> = {
  keygen: `Usage: tock keygen [--bytes 16|24|32]

Prints a random base64 key for gossip encryption (AES-128/192/256; default 32 bytes).`,
  version: `Usage: tock version

Prints the Tock version and the runtime it runs on.`,
  completion: `Usage: tock completion bash|zsh|fish

Prints a shell completion script, e.g. tock completion bash > /etc/bash_completion.d/tock`,
  keyring: `Usage: tock keyring list | install KEY | use KEY | remove KEY [--address URL]

Rotates the gossip encryption key on every member (the agents must run with --encrypt): install
a new key everywhere, use it (make it primary), then remove the old one. Each step prints how many
members acknowledged and which refused and why; it exits non-zero unless every member did. Each
node keeps its keys in DATA_DIR/keyring.json, which wins over --encrypt at the next start.

Flags:
${address}`,
  agent: agentHelp + agentSecurityFlags,
  ...securityHelp,
};

/** The help of `command` (and `sub`), or undefined when there is no such command. */
export function helpFor(command: string, sub: string | undefined): string | undefined {
  if (command === "job" || command === "exec") {
    return (sub !== undefined && subHelp(command, sub)) || groupHelp(command);
  }
  return simple[command];
}

/** The message for `tock job` / `tock exec` with a missing or unknown subcommand. */
export function missingSubcommand(group: "job" | "exec", sub: string | undefined): string {
  const problem = sub === undefined || sub === ""
    ? `tock ${group}: missing subcommand`
    : `tock ${group}: unknown subcommand "${sub}"`;
  return `${problem}\n\n${groupHelp(group)}`;
}

/** True when `--help` or `-h` appears before a `--` terminator. */
export function wantsHelp(args: string[]): boolean {
  for (const a of args) {
    if (a === "--") return false;
    if (a === "--help" || a === "-h") return true;
  }
  return false;
}
