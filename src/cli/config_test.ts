// Proves agent config precedence (flags > env > file > defaults), Dkron's cluster flags and file
// keys (a dkron.yml loads; unimplemented Dkron keys come back as one warning), and one clear
// error per bad value naming the key and its source.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { agentConfig, type CliIo } from "./cli.ts";
import { readConfigFile, readEnv, resolveConfig } from "./config.ts";

const dir = mkdtempSync(join(tmpdir(), "tock-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const flag = (value: unknown, key = "x") => ({ value, source: `flag --${key}` });

describe("resolveConfig", () => {
  test("dev defaults: one-node server on 127.0.0.1:8080 with data in ./tock-data", () => {
    const c = resolveConfig({ dev: flag(true) });
    expect(c).toMatchObject({
      server: true,
      bootstrapExpect: 1,
      dataDir: "./tock-data",
      httpHost: "127.0.0.1",
      httpPort: 8080,
      bindHost: "127.0.0.1",
      bindPort: 0,
      rpcPort: 0,
      profile: "local",
    });
  });

  test("cluster defaults are Dkron's ports and names", () => {
    expect(resolveConfig({})).toMatchObject({
      httpPort: 8080,
      bindHost: "0.0.0.0",
      bindPort: 8946,
      advertiseHost: "",
      advertisePort: 0,
      rpcPort: 6868,
      advertiseRpcPort: 0,
      join: [],
      retryJoin: [],
      retryIntervalMs: 30_000,
      retryMax: 0,
      region: "global",
      datacenter: "dc1",
      encrypt: "",
      raftMultiplier: 1,
      profile: "lan",
      failedServerGraceMs: 300_000,
      warnings: [],
    });
  });

  test("flags beat env, env beats the file", () => {
    const yaml = file(
      "tock.yml",
      "server: true\nbootstrap-expect: 3\nhttp-addr: 10.0.0.1:9000\ntags:\n  rack: r0\n",
    );
    const env = readEnv((n) =>
      ({ TOCK_HTTP_ADDR: "127.0.0.1:7000", TOCK_TAGS: "rack=r1,zone=z" } as Record<
        string,
        string
      >)[n]
    );
    const c = resolveConfig(readConfigFile(yaml).raw, env, { "bootstrap-expect": flag("5") });
    expect(c.bootstrapExpect).toBe(5);
    expect(c.httpHost).toBe("127.0.0.1");
    expect(c.httpPort).toBe(7000);
    expect(c.tags).toEqual({ rack: "r1", zone: "z" });
    expect(c.server).toBe(true);
  });

  test("cluster flags: addresses, repeatable joins, durations, multiplier, profile, key", () => {
    const c = resolveConfig({
      "bind-addr": flag("10.0.0.5", "bind-addr"),
      "advertise-addr": flag("203.0.113.7:8946", "advertise-addr"),
      "rpc-port": flag("7000", "rpc-port"),
      "advertise-rpc-port": flag("17000", "advertise-rpc-port"),
      join: flag(["10.0.0.1", "seed.example:8946"], "join"),
      "retry-join": flag(["10.0.0.2:8946", "[fd00::1]:8946"], "retry-join"),
      "retry-interval": flag("5s", "retry-interval"),
      "retry-max": flag("3", "retry-max"),
      region: flag("eu", "region"),
      datacenter: flag("east-1", "datacenter"),
      encrypt: flag("kPpdjphiipNSsjd4QHWbkA==", "encrypt"),
      "raft-multiplier": flag("5", "raft-multiplier"),
      profile: flag("wan", "profile"),
      "failed-server-grace": flag("90s", "failed-server-grace"),
    });
    expect(c).toMatchObject({
      bindHost: "10.0.0.5",
      bindPort: 8946,
      advertiseHost: "203.0.113.7",
      advertisePort: 8946,
      rpcPort: 7000,
      advertiseRpcPort: 17000,
      join: ["10.0.0.1", "seed.example:8946"],
      retryJoin: ["10.0.0.2:8946", "[fd00::1]:8946"],
      retryIntervalMs: 5_000,
      retryMax: 3,
      region: "eu",
      datacenter: "east-1",
      encrypt: "kPpdjphiipNSsjd4QHWbkA==",
      raftMultiplier: 5,
      profile: "wan",
      failedServerGraceMs: 90_000,
    });
    // An advertise address without a port advertises the bound gossip port (0 = "as bound").
    expect(resolveConfig({ "advertise-addr": flag("192.0.2.1") })).toMatchObject({
      advertiseHost: "192.0.2.1",
      advertisePort: 0,
    });
  });

  test("env lists are comma-separated", () => {
    const env = readEnv((n) =>
      ({ TOCK_RETRY_JOIN: "a.example, b.example:8946", TOCK_JOIN: "c.example" } as Record<
        string,
        string
      >)[n]
    );
    const c = resolveConfig(env);
    expect(c.retryJoin).toEqual(["a.example", "b.example:8946"]);
    expect(c.join).toEqual(["c.example"]);
  });

  test("a Dkron dkron.yml loads; its unimplemented keys are named in one warning", () => {
    const yml = file(
      "dkron.yml",
      [
        "server: true",
        "bootstrap-expect: 3",
        "data-dir: /var/lib/dkron",
        "node-name: dk1",
        "bind-addr: 0.0.0.0:8946",
        "advertise-addr: 10.1.0.4",
        // Loopback: since the security issue an open API on all interfaces needs ACLs.
        "http-addr: 127.0.0.1:8080",
        "rpc-port: 6868",
        "retry-join: ['10.1.0.5', '10.1.0.6']",
        "retry-interval: 15s",
        "region: global",
        "datacenter: dc1",
        "raft-multiplier: 1",
        "encrypt: kPpdjphiipNSsjd4QHWbkA==",
        "log-level: debug",
        "tags:",
        "  - role_x: web",
        "  - dc: dc1",
        "webhook-endpoint: https://hooks.slack.com/services/XXX",
        'webhook-payload: "{\\"text\\":\\"{{.JobName}}\\"}"',
        'webhook-headers: ["Content-Type:application/json"]',
        "enable-prometheus: true",
        "mail-host: smtp.example",
      ].join("\n"),
    );
    const f = readConfigFile(yml);
    expect(f.warnings).toHaveLength(1);
    // Webhooks and mail are implemented (issue 12): only enable-prometheus is named.
    expect(f.warnings[0]).toContain(
      "Tock does not implement these Dkron settings, they have no effect: enable-prometheus",
    );
    expect(f.warnings[0]).not.toContain("webhook");
    const c = resolveConfig(f.raw);
    expect(c).toMatchObject({
      server: true,
      bootstrapExpect: 3,
      nodeName: "dk1",
      advertiseHost: "10.1.0.4",
      retryJoin: ["10.1.0.5", "10.1.0.6"],
      retryIntervalMs: 15_000,
      datacenter: "dc1",
      logLevel: "debug",
      tags: { role_x: "web" },
    });
  });

  test("a dc or region tag sets datacenter/region; a conflicting explicit value is an error", () => {
    expect(resolveConfig({ tag: flag(["dc=east", "rack=r1"]) })).toMatchObject({
      datacenter: "east",
      tags: { rack: "r1" },
    });
    expect(() =>
      resolveConfig({ tag: flag(["dc=east"], "tag"), datacenter: flag("west", "datacenter") })
    ).toThrow('tag dc=east (from flag --tag) conflicts with datacenter "west"');
  });

  test("JSON files and Dkron's list-of-maps tags are accepted", () => {
    const json = file(
      "tock.json",
      JSON.stringify({ server: true, tags: [{ zone: "a" }, { rack: "db" }] }),
    );
    expect(resolveConfig(readConfigFile(json).raw).tags).toEqual({ zone: "a", rack: "db" });
  });

  test("bad values give one clear error naming key, value and source", () => {
    expect(() => resolveConfig({ "http-addr": flag("nonsense", "http-addr") })).toThrow(
      'invalid http-addr "nonsense" (from flag --http-addr): expected HOST:PORT',
    );
    expect(() => resolveConfig({ server: flag("yes") })).toThrow('invalid server "yes"');
    expect(() => resolveConfig({ "bootstrap-expect": flag("three") })).toThrow(
      "invalid bootstrap-expect",
    );
    expect(() => resolveConfig({ tag: flag(["novalue"]) })).toThrow("invalid tag 'novalue'");
    expect(() => resolveConfig({ tag: flag(["server=true"]) })).toThrow("'server' is reserved");
    expect(() => resolveConfig({ "bootstrap-expect": flag("3") })).toThrow(
      "bootstrap-expect needs server mode",
    );
    expect(() => resolveConfig({ "raft-multiplier": flag("11", "raft-multiplier") })).toThrow(
      'invalid raft-multiplier "11" (from flag --raft-multiplier): expected an integer from 1 to 10',
    );
    expect(() => resolveConfig({ "raft-multiplier": flag("0") })).toThrow("from 1 to 10");
    expect(() => resolveConfig({ profile: flag("mars", "profile") })).toThrow(
      'invalid profile "mars" (from flag --profile): expected one of lan, wan, local, fast',
    );
    expect(() => resolveConfig({ "retry-interval": flag("30", "retry-interval") })).toThrow(
      'invalid retry-interval "30" (from flag --retry-interval): expected a duration',
    );
    expect(() => resolveConfig({ "failed-server-grace": flag("-1s") })).toThrow(
      "invalid failed-server-grace",
    );
    expect(() => resolveConfig({ "rpc-port": flag("70000", "rpc-port") })).toThrow(
      'invalid rpc-port "70000" (from flag --rpc-port)',
    );
    expect(() => resolveConfig({ encrypt: flag("c2hvcnQ=", "encrypt") })).toThrow(
      "invalid encrypt (from flag --encrypt)",
    );
    expect(() => resolveConfig({ "retry-join": flag(["provider=aws tag_key=x"], "retry-join") }))
      .toThrow("cloud auto-join and go-sockaddr templates are not supported");
    expect(() => resolveConfig({ join: flag(["bad host!"], "join") })).toThrow(
      'invalid join "bad host!" (from flag --join): expected host or host:port',
    );
    expect(() => resolveConfig({ "bind-addr": flag("{{ GetPrivateIP }}:8946") })).toThrow(
      "go-sockaddr templates are not supported",
    );
    expect(() => resolveConfig({ "advertise-addr": flag("192.0.2.1:9999", "advertise-addr") }))
      .toThrow(
        "invalid advertise-addr port 9999 (from flag --advertise-addr): it must equal the bind-addr port 8946",
      );
    expect(() => resolveConfig({ "advertise-addr": flag("0.0.0.0") })).toThrow(
      "peers must be able to dial it",
    );
    const env = readEnv((n) => (n === "TOCK_RETRY_MAX" ? "many" : undefined));
    expect(() => resolveConfig(env)).toThrow('invalid retry-max "many" (from env TOCK_RETRY_MAX)');
    expect(() => readConfigFile(file("bad.yml", "server: [unclosed"))).toThrow("is not valid YAML");
    expect(() => readConfigFile(file("unk.yml", "colour: blue"))).toThrow('unknown key "colour"');
    expect(() => readConfigFile(join(dir, "missing.yml"))).toThrow("cannot read config file");
  });
});

describe("agentConfig", () => {
  test("parses the cluster flags (repeatable joins) and prints the file's one warning", () => {
    const yml = file("warn.yml", "server: true\nstatsd-addr: 127.0.0.1:8125\n");
    const errs: string[] = [];
    const io = {
      runtime: { env: (_: string) => undefined },
      out: () => {},
      err: (l: string) => errs.push(l),
    } as unknown as CliIo;
    const c = agentConfig(io, [
      "--config",
      yml,
      "--retry-join",
      "10.0.0.1",
      "--retry-join",
      "10.0.0.2:8946",
      "--join",
      "10.0.0.3",
      "--bind-addr",
      "127.0.0.1:0",
      "--rpc-port",
      "0",
      "--raft-multiplier",
      "2",
      "--region",
      "eu",
    ]);
    expect(c).toMatchObject({
      server: true,
      retryJoin: ["10.0.0.1", "10.0.0.2:8946"],
      join: ["10.0.0.3"],
      bindHost: "127.0.0.1",
      bindPort: 0,
      rpcPort: 0,
      raftMultiplier: 2,
      region: "eu",
    });
    expect(c.warnings).toEqual([expect.stringContaining("statsd-addr")]);
    expect(errs).toEqual([expect.stringContaining("tock: warning: config file")]);
  });
});
