/**
 * The agent's security settings (ACLs, the API's exposure, HTTPS) and the safe-by-default rule:
 * without ACLs the HTTP API listens on loopback only; a non-loopback address without ACLs is
 * refused unless --insecure-api says the risk is accepted.
 */
import { readFileSync } from "node:fs";
import { formatGoDuration, invalid, limits, parseGoDuration } from "../lib/mod.ts";

export const securityKeys = [
  "acl-enabled",
  "insecure-api",
  "cert-file",
  "key-file",
  "trusted-ca-file",
  "client-cert-auth",
  "audit-max-entries",
  "audit-max-age",
] as const;
type SecurityKey = (typeof securityKeys)[number];
type Raw = { value: unknown; source: string };

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** CA that client certificates must chain to (with clientCertAuth). */
  caFile: string | undefined;
  clientCertAuth: boolean;
}

export interface SecurityConfig {
  aclEnabled: boolean;
  insecureApi: boolean;
  tls: TlsFiles | undefined;
  /** Audit entries kept, and their age limit in ms (at most the bounds in limits.ts). */
  auditMaxEntries: number;
  auditMaxAgeMs: number;
}

/** The config file's `acl: {enabled: true}` (Dkron Pro's spelling) as the acl-enabled key. */
export function aclFileSection(v: unknown, source: string): Raw {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw invalid(`invalid acl (from ${source}): expected a mapping such as acl: {enabled: true}`);
  }
  for (const k of Object.keys(v)) {
    if (k !== "enabled") {
      throw invalid(`invalid acl (from ${source}): unknown key "${k}"; known: enabled`);
    }
  }
  return { value: (v as { enabled?: unknown }).enabled ?? false, source };
}

function bool(key: string, r: Raw | undefined): boolean {
  if (r === undefined) return false;
  if (typeof r.value === "boolean") return r.value;
  if (r.value === "true" || r.value === "1") return true;
  if (r.value === "false" || r.value === "0") return false;
  throw invalid(
    `invalid ${key} ${JSON.stringify(r.value)} (from ${r.source}): expected true or false`,
  );
}

function path(key: string, r: Raw | undefined): string | undefined {
  if (r === undefined) return undefined;
  if (typeof r.value !== "string" || r.value === "") {
    throw invalid(`invalid ${key} (from ${r.source}): expected a file path`);
  }
  return r.value;
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Resolves the security keys and returns the host to bind: loopback when ACLs are off and no
 * address was asked for. Throws the one message naming both flags for an exposed open API.
 */
export function resolveSecurity(
  raw: Partial<Record<SecurityKey, Raw>> & { "http-addr"?: Raw },
  host: string,
): { security: SecurityConfig; host: string } {
  const aclEnabled = bool("acl-enabled", raw["acl-enabled"]);
  const insecureApi = bool("insecure-api", raw["insecure-api"]);
  const certFile = path("cert-file", raw["cert-file"]);
  const keyFile = path("key-file", raw["key-file"]);
  const caFile = path("trusted-ca-file", raw["trusted-ca-file"]);
  const clientCertAuth = bool("client-cert-auth", raw["client-cert-auth"]);
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw invalid("HTTPS needs both --cert-file and --key-file");
  }
  if (clientCertAuth && (certFile === undefined || caFile === undefined)) {
    throw invalid(
      "--client-cert-auth needs --cert-file, --key-file and --trusted-ca-file (the CA of client certificates)",
    );
  }
  const tls = certFile === undefined || keyFile === undefined
    ? undefined
    : { certFile, keyFile, caFile, clientCertAuth };
  const auditMaxEntries = auditEntries(raw["audit-max-entries"]);
  const auditMaxAgeMs = auditAge(raw["audit-max-age"]);
  let bind = host;
  if (!aclEnabled && !insecureApi && !isLoopback(host)) {
    if (raw["http-addr"] === undefined) bind = "127.0.0.1";
    else {
      throw invalid(
        `refusing to serve the HTTP API on ${host} without ACLs (from ${
          raw["http-addr"].source
        }): anyone who reaches the port could run commands. Enable ACLs with --acl-enabled ` +
          `(config acl: {enabled: true}), or accept the risk with --insecure-api`,
      );
    }
  }
  return {
    security: { aclEnabled, insecureApi, tls, auditMaxEntries, auditMaxAgeMs },
    host: bind,
  };
}

function auditEntries(r: Raw | undefined): number {
  if (r === undefined) return limits.auditEntriesMax;
  const n = Number(r.value);
  if (
    !Number.isInteger(n) || n < 1 || n > limits.auditEntriesMax || String(r.value).trim() === ""
  ) {
    throw invalid(
      `invalid audit-max-entries ${
        JSON.stringify(r.value)
      } (from ${r.source}): expected an integer from 1 to ${limits.auditEntriesMax}`,
    );
  }
  return n;
}

function auditAge(r: Raw | undefined): number {
  if (r === undefined) return limits.auditRetentionMs;
  let ms: number;
  try {
    ms = parseGoDuration(String(r.value));
  } catch (e) {
    throw invalid(
      `invalid audit-max-age ${JSON.stringify(r.value)} (from ${r.source}): ${
        (e as Error).message
      }`,
    );
  }
  if (ms < 60_000 || ms > limits.auditRetentionMs) {
    throw invalid(
      `invalid audit-max-age ${JSON.stringify(r.value)} (from ${r.source}): expected 1m to ${
        formatGoDuration(limits.auditRetentionMs)
      }`,
    );
  }
  return ms;
}

/** Reads the PEM files of a TlsFiles (again on SIGHUP); names the file that cannot be read. */
export function readTls(
  t: TlsFiles,
): { cert: string; key: string; ca?: string; requireClientCert: boolean } {
  const read = (what: string, p: string) => {
    try {
      return readFileSync(p, "utf8");
    } catch (e) {
      throw invalid(`cannot read ${what} ${p}: ${(e as Error).message}`);
    }
  };
  const out = {
    cert: read("--cert-file", t.certFile),
    key: read("--key-file", t.keyFile),
    requireClientCert: t.clientCertAuth,
  };
  return t.caFile === undefined ? out : { ...out, ca: read("--trusted-ca-file", t.caFile) };
}
