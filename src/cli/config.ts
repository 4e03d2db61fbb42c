/**
 * Agent configuration: flags > environment (TOCK_*) > config file (YAML or JSON) > defaults.
 * Every value is checked once here; a bad value is one clear error naming the key and its source.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { parse as parseYaml } from "yaml";
import { invalid } from "../lib/mod.ts";
import { type NotifyConfig, notifyConfigKeys, parseNotifyConfig } from "../processor/mod.ts";
import {
  aclFileSection,
  resolveSecurity,
  type SecurityConfig,
  securityKeys,
} from "./security_config.ts";

export interface AgentConfig {
  server: boolean;
  bootstrapExpect: number;
  dataDir: string;
  httpHost: string;
  httpPort: number;
  nodeName: string;
  tags: Record<string, string>;
  dev: boolean;
  ui: boolean;
  logLevel: string;
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
  "node-name",
  "tag",
  "dev",
  "ui",
  "log-level",
  ...pluginNotifyKeys(),
  ...securityKeys,
] as const;
export type ConfigKey = (typeof configKeys)[number];

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

const logLevels = ["debug", "info", "warn", "error"];

export function envName(key: ConfigKey): string {
  return `TOCK_${(key === "tag" ? "tags" : key).toUpperCase().replaceAll("-", "_")}`;
}

/** Reads a YAML or JSON config file into raw values (the file's `tags` map or list, or `tag`). */
export function readConfigFile(path: string): RawConfig {
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
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw invalid(`config file ${path} must hold a mapping of keys`);
  }
  const out: RawConfig = {};
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (k === "acl") {
      out["acl-enabled"] = aclFileSection(v, `config file ${path}`);
      continue;
    }
    const key = (k === "tags" ? "tag" : k) as ConfigKey;
    if (!(configKeys as readonly string[]).includes(key)) {
      throw invalid(
        `config file ${path}: unknown key "${k}"; known keys: ${configKeys.join(", ")}, tags`,
      );
    }
    out[key] = { value: v, source: `config file ${path}` };
  }
  return out;
}

export function readEnv(env: (name: string) => string | undefined): RawConfig {
  const out: RawConfig = {};
  for (const key of configKeys) {
    const v = env(envName(key));
    if (v !== undefined && v !== "") out[key] = { value: v, source: `env ${envName(key)}` };
  }
  return out;
}

function bool(key: string, r: Raw): boolean {
  if (typeof r.value === "boolean") return r.value;
  if (r.value === "true" || r.value === "1") return true;
  if (r.value === "false" || r.value === "0") return false;
  throw invalid(
    `invalid ${key} ${JSON.stringify(r.value)} (from ${r.source}): expected true or false`,
  );
}

function tagsOf(r: Raw): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (s: string) => {
    const i = s.indexOf("=");
    if (i <= 0) throw invalid(`invalid tag '${s}' (from ${r.source}): expected key=value`);
    out[s.slice(0, i)] = s.slice(i + 1);
  };
  const v = r.value;
  if (typeof v === "string") v.split(",").filter((s) => s !== "").forEach(add);
  else if (Array.isArray(v)) {
    for (const item of v) {
      if (typeof item === "string") add(item);
      else if (item && typeof item === "object") {
        for (const [k, x] of Object.entries(item)) out[k] = String(x);
      } else throw invalid(`invalid tags (from ${r.source}): list items must be "k=v" or {k: v}`);
    }
  } else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) out[k] = String(x);
  } else throw invalid(`invalid tags (from ${r.source}): expected a map, a list, or k=v pairs`);
  return out;
}

/** Splits HOST:PORT (":8080" means all interfaces); port 0 means pick a free one. */
export function parseHostPort(key: string, r: Raw): { host: string; port: number } {
  const s = String(r.value);
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw invalid(
      `invalid ${key} "${s}" (from ${r.source}): expected HOST:PORT, e.g. 127.0.0.1:8080 or :8080`,
    );
  }
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}

/** Merges sources (later wins) and validates into an AgentConfig. */
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
    const r = raw["bootstrap-expect"];
    const n = Number(r.value);
    if (!Number.isInteger(n) || n < 0 || n > 9 || String(r.value).trim() === "") {
      throw invalid(
        `invalid bootstrap-expect ${
          JSON.stringify(r.value)
        } (from ${r.source}): expected an integer from 0 to 9`,
      );
    }
    cfg.bootstrapExpect = n;
  }
  if (raw["data-dir"]) {
    const v = raw["data-dir"].value;
    if (typeof v !== "string" || v === "") {
      throw invalid(`invalid data-dir (from ${raw["data-dir"].source}): expected a path`);
    }
    cfg.dataDir = v;
  }
  if (raw["http-addr"]) {
    const { host, port } = parseHostPort("http-addr", raw["http-addr"]);
    cfg.httpHost = host;
    cfg.httpPort = port;
  }
  if (raw["node-name"]) {
    const v = String(raw["node-name"].value);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(v)) {
      throw invalid(
        `invalid node-name "${v}" (from ${
          raw["node-name"].source
        }): use letters, digits, '.', '_' or '-'`,
      );
    }
    cfg.nodeName = v;
  }
  if (raw.tag) cfg.tags = tagsOf(raw.tag);
  if (raw["log-level"]) {
    const v = String(raw["log-level"].value);
    if (!logLevels.includes(v)) {
      throw invalid(
        `invalid log-level "${v}" (from ${raw["log-level"].source}): expected one of ${
          logLevels.join(", ")
        }`,
      );
    }
    cfg.logLevel = v;
  }
  const secured = resolveSecurity(raw, cfg.httpHost);
  cfg.security = secured.security;
  cfg.httpHost = secured.host;
  if (cfg.bootstrapExpect > 0 && !cfg.server) {
    throw invalid("bootstrap-expect needs server mode (--server)");
  }
  return cfg;
}
