// Proves agent config precedence (flags > env > file > defaults) and one clear error per bad value.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
    });
  });

  test("flags beat env, env beats the file", () => {
    const yaml = file(
      "tock.yml",
      "server: true\nbootstrap-expect: 3\nhttp-addr: 10.0.0.1:9000\ntags:\n  dc: east\n",
    );
    const env = readEnv((n) =>
      ({ TOCK_HTTP_ADDR: "127.0.0.1:7000", TOCK_TAGS: "dc=west,rack=r1" } as Record<
        string,
        string
      >)[n]
    );
    const c = resolveConfig(readConfigFile(yaml), env, { "bootstrap-expect": flag("5") });
    expect(c.bootstrapExpect).toBe(5);
    expect(c.httpHost).toBe("127.0.0.1");
    expect(c.httpPort).toBe(7000);
    expect(c.tags).toEqual({ dc: "west", rack: "r1" });
    expect(c.server).toBe(true);
  });

  test("JSON files and Dkron's list-of-maps tags are accepted", () => {
    const json = file(
      "tock.json",
      JSON.stringify({ server: true, tags: [{ dc: "a" }, { role: "db" }] }),
    );
    expect(resolveConfig(readConfigFile(json)).tags).toEqual({ dc: "a", role: "db" });
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
    expect(() => resolveConfig({ "bootstrap-expect": flag("3") })).toThrow(
      "bootstrap-expect needs server mode",
    );
    expect(() => readConfigFile(file("bad.yml", "server: [unclosed"))).toThrow("is not valid YAML");
    expect(() => readConfigFile(file("unk.yml", "colour: blue"))).toThrow('unknown key "colour"');
    expect(() => readConfigFile(join(dir, "missing.yml"))).toThrow("cannot read config file");
  });
});
