/**
 * Agent configuration: flags > environment (TOCK_*) > config file (YAML or JSON) > defaults.
 * Every value is checked once here; a bad value is one clear error naming the key and its source.
 * Keys are Dkron's, so a Dkron user's dkron.yml loads as is: the Dkron keys Tock does not
 * implement come back as one warning (ConfigFile.warnings), never silently dropped.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { parse as parseYaml } from "yaml";
import { invalid, limits, parseGoDuration } from "../lib/mod.ts";
import { reservedTagNames } from "../membership/mod.ts";
import { parseKey } from "../net/mod.ts";
import { type NotifyConfig, notifyConfigKeys, parseNotifyConfig } from "../processor/mod.ts";
import {
  aclFileSection,
  resolveSecurity,
  type SecurityConfig,
  securityKeys,
} from "./security_config.ts";

/** Gossip timing profiles: Dkron's lan, wan, local, plus Tock's fast (sub-second detection). */
export const profileNames = ["lan", "wan", "local", "fast"] as const;
export type Profile = (typeof profileNames)[number];

export interface AgentConfig {
  server: boolean;
  bootstrapExpect: number;
  dataDir: string;
  httpHost: string;
  httpPort: number;
  nodeName: string;
  /** User tags (reserved ones such as server, dc, rpc_addr are set from the fields below). */
  tags: Record<string, string>;
  dev: boolean;
  ui: boolean;
  logLevel: string;
  /** Gossip (UDP+TCP) bind address. Default 0.0.0.0:8946; --dev 127.0.0.1 with a free port. */
  bindHost: string;
  /** 0 picks a free port. */
  bindPort: number;
  /** Host peers dial for gossip and RPC; "" derives it from bindHost (a private IP for 0.0.0.0). */
  advertiseHost: string;
  /** Advertised gossip port; 0 means the bound gossip port. */
  advertisePort: number;
  /** Inter-node RPC port on bindHost (Raft, forwarding): Connect over HTTP/1.1. Default 6868; 0 picks one. */
  rpcPort: number;
  /** RPC port peers dial; 0 means the bound RPC port (set it behind NAT or port mapping). */
  advertiseRpcPort: number;
  /** Gossip addresses (host or host:port) joined once at start; failures are only logged. */
  join: string[];
  /** Gossip addresses joined with retries, re-resolved on every attempt. */
  retryJoin: string[];
  /** Milliseconds between retry-join attempts. Default 30 s (Dkron). */
  retryIntervalMs: number;
  /** retry-join attempts before the agent gives up and exits; 0 = forever (Dkron). */
  retryMax: number;
  /** Tag `region`; default "global". Servers of one region form one Raft group. */
  region: string;
  /** Tag `dc`; default "dc1". */
  datacenter: string;
  /** Base64 gossip key (16, 24 or 32 bytes, as `tock keygen`), "" for plaintext gossip. */
  encrypt: string;
  /** Scales Raft heartbeat, election and lease timeouts, 1–10 (Dkron: default 1). */
  raftMultiplier: number;
  /** Gossip timing profile. Default lan; --dev uses local. */
  profile: Profile;
  /**
   * Milliseconds a server may stay "failed" in gossip before the leader removes it from Raft (and
   * only if the remaining voters keep a quorum). Default 5 min: longer than a restart or a rolling
   * upgrade of one server, short enough that a dead server's slot frees up for a replacement.
   */
  failedServerGraceMs: number;
  /** Messages for the operator (Dkron keys read but not implemented); the CLI prints them. */
  warnings: string[];
  /** Issue 12: where executor plugins are found ("" = none), and cluster-wide notifications. */
  pluginDir: string;
  notify: NotifyConfig;
  /** ACLs, API exposure and HTTPS (security_config.ts). */
  security: SecurityConfig;
}

/** Keys as spelled in flags and files (Dkron's names); env is TOCK_ + upper snake case. */
export const configKeys = [
  "server",
  "bootstrap-expect",
  "data-dir",
  "http-addr",
  "bind-addr",
  "advertise-addr",
  "rpc-port",
  "advertise-rpc-port",
  "join",
  "retry-join",
  "retry-interval",
  "retry-max",
  "region",
  "datacenter",
  "encrypt",
  "raft-multiplier",
  "profile",
  "failed-server-grace",
  "node-name",
  "tag",
  "dev",
  "ui",
  "log-level",
  ...pluginNotifyKeys(),
  ...securityKeys,
] as const;
export type ConfigKey = (typeof configKeys)[number];

/**
 * Dkron agent keys (OSS and Pro) that Tock reads without acting on them. They are reported in
 * one warning so a dkron.yml loads, and nobody believes such a setting took effect. Keys Tock
 * implements (webhook-*, mail-*, acl, TLS files) are config keys and never reach this list.
 */
export const dkronKeysNotImplemented: ReadonlySet<string> = new Set([
  "serf-reconnect-timeout",
  "disable-usage-stats",
  "webhook-url",
  "cronitor-endpoint",
  "statsd-addr",
  "dog-statsd-addr",
  "dog-statsd-tags",
  "enable-prometheus",
  "otel-endpoint",
  "bootstrap",
  "devmode",
  "reconcileinterval",
  "rpc-addr",
  // Dkron Pro
  "auto-tls",
  "client-crl-file",
  "disable-http-tls",
  "username",
  "password",
  "federation-mode",
  "fast",
  "raft-duration",
]);

/** Tags the agent sets itself; a user tag may not claim them (dc and region: see resolveConfig). */
const reservedTags = reservedTagNames.filter((t) => t !== "dc" && t !== "region");
// ---- issue 12: executor plugins and notifications (their meaning is in processor/) ----
function pluginNotifyKeys() {
  return ["plugin-dir", ...notifyConfigKeys] as const;
}
/** Flag definitions for parseArgs: every key a string; *-headers may repeat. */
export const pluginNotifyFlags = Object.fromEntries(
  pluginNotifyKeys().map((k) => [k, { type: "string", multiple: k.endsWith("-headers") }]),
) as Record<string, { type: "string"; multiple: boolean }>;
function resolvePluginNotify(raw: RawConfig, cfg: AgentConfig): void {
  if (raw["plugin-dir"]) cfg.pluginDir = String(raw["plugin-dir"].value);
  const values: Record<string, unknown> = {};
  for (const k of notifyConfigKeys) if (raw[k]) values[k] = raw[k]?.value;
  try {
    cfg.notify = parseNotifyConfig(values);
  } catch (e) {
    const key = notifyConfigKeys.find((k) => (e as Error).message.startsWith(k));
    const from = key && raw[key] ? ` (from ${raw[key]?.source})` : "";
    throw invalid(`invalid notification setting${from}: ${(e as Error).message}`);
  }
}
// ---- end issue 12 ----

type Raw = { value: unknown; source: string };
export type RawConfig = Partial<Record<ConfigKey, Raw>>;
/** A config file read into raw values, plus the warnings to print about it. */
export interface ConfigFile {
  raw: RawConfig;
  warnings: string[];
}

const logLevels = ["debug", "info", "warn", "error"];
const defaultGossipPort = 8946;
const defaultRpcPort = 6868;

export function envName(key: ConfigKey): string {
  return `TOCK_${(key === "tag" ? "tags" : key).toUpperCase().replaceAll("-", "_")}`;
}

/** Reads a YAML or JSON config file (Tock's or Dkron's keys; `tags` map or list, or `tag`). */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw invalid(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw invalid(
      `config file ${path} is not valid ${path.endsWith(".json") ? "JSON" : "YAML"}: ${
        (e as Error).message
      }`,
    );
  }
  if (doc === null || doc === undefined) return { raw: {}, warnings: [] };
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw invalid(`config file ${path} must hold a mapping of keys`);
  }
  const raw: RawConfig = {};
  const ignored: string[] = [];
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (k === "acl") {
      raw["acl-enabled"] = aclFileSection(v, `config file ${path}`);
      continue;
    }
    const key = (k === "tags" ? "tag" : k) as ConfigKey;
    if ((configKeys as readonly string[]).includes(key)) {
      raw[key] = { value: v, source: `config file ${path}` };
    } else if (dkronKeysNotImplemented.has(k)) {
      ignored.push(k);
    } else {
      throw invalid(
        `config file ${path}: unknown key "${k}"; known keys: ${configKeys.join(", ")}, tags`,
      );
    }
  }
  const warnings = ignored.length === 0 ? [] : [
    `config file ${path}: Tock does not implement these Dkron settings, they have no effect: ${
      ignored.join(", ")
    }`,
  ];
  return { raw, warnings };
}

export function readEnv(env: (name: string) => string | undefined): RawConfig {
  const out: RawConfig = {};
  for (const key of configKeys) {
    const v = env(envName(key));
    if (v !== undefined && v !== "") out[key] = { value: v, source: `env ${envName(key)}` };
  }
  return out;
}

const from = (r: Raw) => `(from ${r.source})`;

function bool(key: string, r: Raw): boolean {
  if (typeof r.value === "boolean") return r.value;
  if (r.value === "true" || r.value === "1") return true;
  if (r.value === "false" || r.value === "0") return false;
  throw invalid(`invalid ${key} ${JSON.stringify(r.value)} ${from(r)}: expected true or false`);
}

function int(key: string, r: Raw, min: number, max: number): number {
  const n = typeof r.value === "number" || typeof r.value === "string" ? Number(r.value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max || String(r.value).trim() === "") {
    throw invalid(
      `invalid ${key} ${JSON.stringify(r.value)} ${
        from(r)
      }: expected an integer from ${min} to ${max}`,
    );
  }
  return n;
}

function duration(key: string, r: Raw, minMs: number, maxMs: number): number {
  let ms = NaN;
  if (typeof r.value === "string") {
    try {
      ms = parseGoDuration(r.value.trim());
    } catch {
      // reported below with the key and its source
    }
  }
  if (!(ms >= minMs && ms <= maxMs)) {
    throw invalid(
      `invalid ${key} ${JSON.stringify(r.value)} ${
        from(r)
      }: expected a duration such as 30s or 5m, ` +
        `from ${minMs}ms to ${maxMs / 3_600_000}h`,
    );
  }
  return ms;
}

/** A list from a YAML/JSON list, a repeated flag, or a comma-separated string. */
function list(key: string, r: Raw): string[] {
  const v = r.value;
  const items = typeof v === "string" ? v.split(",") : Array.isArray(v) ? v : undefined;
  if (items === undefined || items.some((x) => typeof x !== "string")) {
    throw invalid(`invalid ${key} ${from(r)}: expected a list of addresses`);
  }
  const out = (items as string[]).map((s) => s.trim()).filter((s) => s !== "");
  if (out.length > limits.joinAddrsMax) {
    throw invalid(
      `invalid ${key} ${from(r)}: ${out.length} addresses, at most ${limits.joinAddrsMax}`,
    );
  }
  for (const a of out) joinAddr(key, { value: a, source: r.source });
  return out;
}

/** A join address: host or host:port (go-discover "provider=..." strings are not supported). */
function joinAddr(key: string, r: Raw): void {
  const s = String(r.value);
  if (s.includes("provider=") || s.includes("{{")) {
    throw invalid(
      `invalid ${key} "${s}" ${
        from(r)
      }: cloud auto-join and go-sockaddr templates are not supported; give host or host:port`,
    );
  }
  if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:\d{1,5})?$/.test(s)) {
    throw invalid(`invalid ${key} "${s}" ${from(r)}: expected host or host:port`);
  }
}

function name(key: string, r: Raw): string {
  const v = String(r.value);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(v)) {
    throw invalid(`invalid ${key} "${v}" ${from(r)}: use letters, digits, '.', '_' or '-'`);
  }
  return v;
}

function tagsOf(r: Raw): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (s: string) => {
    const i = s.indexOf("=");
    if (i <= 0) throw invalid(`invalid tag '${s}' ${from(r)}: expected key=value`);
    out[s.slice(0, i)] = s.slice(i + 1);
  };
  const v = r.value;
  if (typeof v === "string") v.split(",").filter((s) => s !== "").forEach(add);
  else if (Array.isArray(v)) {
    for (const item of v) {
      if (typeof item === "string") add(item);
      else if (item && typeof item === "object") {
        for (const [k, x] of Object.entries(item)) out[k] = String(x);
      } else throw invalid(`invalid tags ${from(r)}: list items must be "k=v" or {k: v}`);
    }
  } else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) out[k] = String(x);
  } else throw invalid(`invalid tags ${from(r)}: expected a map, a list, or k=v pairs`);
  for (const k of Object.keys(out)) {
    if (reservedTags.includes(k)) {
      throw invalid(`invalid tag '${k}' ${from(r)}: '${k}' is reserved; Tock sets it itself`);
    }
  }
  return out;
}

const hostPortRe = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/;

/** Splits HOST:PORT (":8080" means all interfaces); port 0 means pick a free one. */
export function parseHostPort(key: string, r: Raw): { host: string; port: number } {
  const s = String(r.value);
  const m = hostPortRe.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw invalid(
      `invalid ${key} "${s}" ${from(r)}: expected HOST:PORT, e.g. 127.0.0.1:8080 or :8080`,
    );
  }
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}

/** HOST or HOST:PORT; a missing port is `port` (Dkron appends its default). */
function hostWithOptionalPort(
  key: string,
  r: Raw,
  port: number,
): { host: string; port: number } {
  const s = String(r.value);
  if (s.includes("{{")) {
    throw invalid(`invalid ${key} "${s}" ${from(r)}: go-sockaddr templates are not supported`);
  }
  if (hostPortRe.test(s)) return parseHostPort(key, r);
  const bare = /^\[([0-9A-Fa-f:.]+)\]$/.exec(s)?.[1] ??
    (/^[A-Za-z0-9._-]+$/.test(s) || /^[0-9A-Fa-f:]+:[0-9A-Fa-f:]*$/.test(s) ? s : undefined);
  if (bare === undefined) {
    throw invalid(`invalid ${key} "${s}" ${from(r)}: expected HOST or HOST:PORT`);
  }
  return { host: bare, port };
}

/** Merges sources (later wins) and validates into an AgentConfig (warnings: see readConfigFile). */
export function resolveConfig(...sources: RawConfig[]): AgentConfig {
  const raw: RawConfig = Object.assign({}, ...sources);
  const dev = raw.dev ? bool("dev", raw.dev) : false;
  const cfg: AgentConfig = {
    server: dev,
    bootstrapExpect: dev ? 1 : 0,
    dataDir: dev ? "./tock-data" : "tock.data",
    httpHost: dev ? "127.0.0.1" : "0.0.0.0",
    httpPort: 8080,
    nodeName: hostname(),
    tags: {},
    dev,
    ui: true,
    logLevel: "info",
    // A dev node is alone: free ports keep several of them (and tests) from colliding.
    bindHost: dev ? "127.0.0.1" : "0.0.0.0",
    bindPort: dev ? 0 : defaultGossipPort,
    advertiseHost: "",
    advertisePort: 0,
    rpcPort: dev ? 0 : defaultRpcPort,
    advertiseRpcPort: 0,
    join: [],
    retryJoin: [],
    retryIntervalMs: 30_000,
    retryMax: 0,
    region: "global",
    datacenter: "dc1",
    encrypt: "",
    raftMultiplier: 1,
    profile: dev ? "local" : "lan",
    failedServerGraceMs: 5 * 60_000,
    warnings: [],
    pluginDir: "",
    notify: parseNotifyConfig({}),
    security: {
      aclEnabled: false,
      insecureApi: false,
      tls: undefined,
      auditMaxEntries: 0,
      auditMaxAgeMs: 0,
    },
  };
  resolvePluginNotify(raw, cfg);
  if (raw.server) cfg.server = bool("server", raw.server);
  if (raw.ui) cfg.ui = bool("ui", raw.ui);
  if (raw["bootstrap-expect"]) {
    cfg.bootstrapExpect = int("bootstrap-expect", raw["bootstrap-expect"], 0, 9);
  }
  if (raw["data-dir"]) {
    const v = raw["data-dir"].value;
    if (typeof v !== "string" || v === "") {
      throw invalid(`invalid data-dir ${from(raw["data-dir"])}: expected a path`);
    }
    cfg.dataDir = v;
  }
  if (raw["http-addr"]) {
    const { host, port } = parseHostPort("http-addr", raw["http-addr"]);
    cfg.httpHost = host;
    cfg.httpPort = port;
  }
  if (raw["bind-addr"]) {
    const b = hostWithOptionalPort("bind-addr", raw["bind-addr"], defaultGossipPort);
    cfg.bindHost = b.host === "" ? "0.0.0.0" : b.host;
    cfg.bindPort = b.port;
  }
  if (raw["advertise-addr"]) {
    const a = hostWithOptionalPort("advertise-addr", raw["advertise-addr"], 0);
    if (a.host === "" || a.host === "0.0.0.0" || a.host === "::") {
      throw invalid(
        `invalid advertise-addr "${String(raw["advertise-addr"].value)}" ${
          from(raw["advertise-addr"])
        }: peers must be able to dial it; give a concrete host`,
      );
    }
    cfg.advertiseHost = a.host;
    cfg.advertisePort = a.port;
  }
  if (raw["rpc-port"]) cfg.rpcPort = int("rpc-port", raw["rpc-port"], 0, 65535);
  if (raw["advertise-rpc-port"]) {
    cfg.advertiseRpcPort = int("advertise-rpc-port", raw["advertise-rpc-port"], 0, 65535);
  }
  if (raw.join) cfg.join = list("join", raw.join);
  if (raw["retry-join"]) cfg.retryJoin = list("retry-join", raw["retry-join"]);
  if (raw["retry-interval"]) {
    cfg.retryIntervalMs = duration(
      "retry-interval",
      raw["retry-interval"],
      limits.retryJoinIntervalMinMs,
      limits.retryJoinIntervalMaxMs,
    );
  }
  if (raw["retry-max"]) cfg.retryMax = int("retry-max", raw["retry-max"], 0, 1_000_000);
  if (raw.region) cfg.region = name("region", raw.region);
  if (raw.datacenter) cfg.datacenter = name("datacenter", raw.datacenter);
  if (raw.encrypt) {
    const r = raw.encrypt;
    const s = typeof r.value === "string" ? r.value.trim() : "";
    try {
      parseKey(s);
    } catch (e) {
      throw invalid(
        `invalid encrypt ${from(r)}: ${(e as Error).message} (make one with \`tock keygen\`)`,
      );
    }
    cfg.encrypt = s;
  }
  if (raw["raft-multiplier"]) {
    cfg.raftMultiplier = int("raft-multiplier", raw["raft-multiplier"], 1, 10);
  }
  if (raw.profile) {
    const v = String(raw.profile.value);
    if (!(profileNames as readonly string[]).includes(v)) {
      throw invalid(
        `invalid profile "${v}" ${from(raw.profile)}: expected one of ${profileNames.join(", ")}`,
      );
    }
    cfg.profile = v as Profile;
  }
  if (raw["failed-server-grace"]) {
    cfg.failedServerGraceMs = duration(
      "failed-server-grace",
      raw["failed-server-grace"],
      0,
      limits.failedServerGraceMaxMs,
    );
  }
  if (raw["node-name"]) cfg.nodeName = name("node-name", raw["node-name"]);
  if (raw.tag) {
    const tags = tagsOf(raw.tag);
    // Dkron users write `tags: {dc: east}`; dc and region are the --datacenter/--region values.
    for (const [tag, key] of [["dc", "datacenter"], ["region", "region"]] as const) {
      const v = tags[tag];
      if (v === undefined) continue;
      delete tags[tag];
      const explicit = raw[key];
      if (explicit && String(explicit.value) !== v) {
        throw invalid(
          `tag ${tag}=${v} ${from(raw.tag)} conflicts with ${key} "${String(explicit.value)}" ${
            from(explicit)
          }`,
        );
      }
      cfg[key] = name(`tag ${tag}`, { value: v, source: raw.tag.source });
    }
    cfg.tags = tags;
  }
  if (raw["log-level"]) {
    const v = String(raw["log-level"].value);
    if (!logLevels.includes(v)) {
      throw invalid(
        `invalid log-level "${v}" ${from(raw["log-level"])}: expected one of ${
          logLevels.join(", ")
        }`,
      );
    }
    cfg.logLevel = v;
  }
  if (cfg.advertisePort !== 0 && cfg.advertisePort !== cfg.bindPort) {
    throw invalid(
      `invalid advertise-addr port ${cfg.advertisePort} ${
        from(raw["advertise-addr"]!)
      }: it must equal the bind-addr port ${cfg.bindPort} (gossip advertises the port it binds; a remapped port is not supported)`,
    );
  }
  const secured = resolveSecurity(raw, cfg.httpHost);
  cfg.security = secured.security;
  cfg.httpHost = secured.host;
  if (cfg.bootstrapExpect > 0 && !cfg.server) {
    throw invalid("bootstrap-expect needs server mode (--server)");
  }
  return cfg;
}
