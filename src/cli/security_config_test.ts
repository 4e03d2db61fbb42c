// Proves safe-by-default: without ACLs the API binds loopback; an exposed address without ACLs
// is refused with one message naming --acl-enabled and --insecure-api; ACLs (flag, env or the
// config file's acl: {enabled: true}) or --insecure-api allow it; HTTPS settings are checked.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readConfigFile, readEnv, resolveConfig } from "./config.ts";
import { isLoopback } from "./security_config.ts";

const dir = mkdtempSync(join(tmpdir(), "tock-security-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const flag = (value: unknown, key: string) => ({ value, source: `flag --${key}` });

describe("safe by default", () => {
  test("no ACLs and no address: the API binds 127.0.0.1, also for a plain server", () => {
    expect(resolveConfig({ server: flag(true, "server") }).httpHost).toBe("127.0.0.1");
    expect(resolveConfig({ dev: flag(true, "dev") })).toMatchObject({
      httpHost: "127.0.0.1",
      security: { aclEnabled: false },
    });
  });

  test("an exposed address without ACLs is refused with one message naming both flags", () => {
    for (const addr of ["0.0.0.0:8080", ":8080", "10.1.2.3:8080", "[::]:8080"]) {
      expect(() => resolveConfig({ "http-addr": flag(addr, "http-addr") })).toThrow(
        /refusing to serve the HTTP API on .* without ACLs \(from flag --http-addr\).*--acl-enabled \(config acl: \{enabled: true\}\), or accept the risk with --insecure-api/,
      );
    }
    expect(() =>
      resolveConfig({ dev: flag(true, "dev"), "http-addr": flag("0.0.0.0:8080", "http-addr") })
    ).toThrow("--insecure-api");
  });

  test("ACLs from a flag, the environment or the config file allow any address", () => {
    const exposed = { "http-addr": flag("0.0.0.0:8080", "http-addr") };
    expect(resolveConfig(exposed, { "acl-enabled": flag(true, "acl-enabled") })).toMatchObject({
      httpHost: "0.0.0.0",
      security: { aclEnabled: true },
    });
    const env = readEnv((n) => (n === "TOCK_ACL_ENABLED" ? "true" : undefined));
    expect(resolveConfig(exposed, env).security.aclEnabled).toBe(true);
    const file = join(dir, "tock.yml");
    writeFileSync(file, "http-addr: 0.0.0.0:8080\nacl:\n  enabled: true\n");
    expect(resolveConfig(readConfigFile(file).raw).security.aclEnabled).toBe(true);
    const bad = join(dir, "bad.yml");
    writeFileSync(bad, "acl:\n  enable: true\n");
    expect(() => readConfigFile(bad)).toThrow("invalid acl (from config file");
  });

  test("--insecure-api accepts an open exposed API", () => {
    expect(
      resolveConfig({
        "http-addr": flag("0.0.0.0:8080", "http-addr"),
        "insecure-api": flag(true, "insecure-api"),
      }),
    ).toMatchObject({ httpHost: "0.0.0.0", security: { aclEnabled: false, insecureApi: true } });
  });

  test("HTTPS needs a certificate and a key; client certificates need a CA", () => {
    expect(() => resolveConfig({ "cert-file": flag("c.pem", "cert-file") })).toThrow(
      "HTTPS needs both --cert-file and --key-file",
    );
    expect(() =>
      resolveConfig({
        "cert-file": flag("c.pem", "cert-file"),
        "key-file": flag("k.pem", "key-file"),
        "client-cert-auth": flag(true, "client-cert-auth"),
      })
    ).toThrow("--client-cert-auth needs");
    expect(
      resolveConfig({
        "cert-file": flag("c.pem", "cert-file"),
        "key-file": flag("k.pem", "key-file"),
      }).security.tls,
    ).toEqual({ certFile: "c.pem", keyFile: "k.pem", caFile: undefined, clientCertAuth: false });
  });

  test("audit retention: defaults are the bounds; lower values are accepted, higher refused", () => {
    expect(resolveConfig({}).security).toMatchObject({
      auditMaxEntries: 100_000,
      auditMaxAgeMs: 30 * 24 * 3600 * 1000,
    });
    expect(
      resolveConfig({
        "audit-max-entries": flag("500", "audit-max-entries"),
        "audit-max-age": flag("72h", "audit-max-age"),
      }).security,
    ).toMatchObject({ auditMaxEntries: 500, auditMaxAgeMs: 72 * 3600 * 1000 });
    expect(() => resolveConfig({ "audit-max-entries": flag("1000001", "audit-max-entries") }))
      .toThrow('invalid audit-max-entries "1000001" (from flag --audit-max-entries)');
    expect(() => resolveConfig({ "audit-max-age": flag("9000h", "audit-max-age") })).toThrow(
      "expected 1m to 720h0m0s",
    );
    expect(() => resolveConfig({ "audit-max-age": flag("soon", "audit-max-age") })).toThrow(
      "invalid audit-max-age",
    );
  });

  test("loopback means 127.0.0.0/8, ::1 and localhost only", () => {
    expect(["127.0.0.1", "127.9.9.9", "::1", "localhost"].every(isLoopback)).toBe(true);
    expect(["0.0.0.0", "::", "10.0.0.1", "127.0.0.1.example.com"].some(isLoopback)).toBe(false);
  });
});
