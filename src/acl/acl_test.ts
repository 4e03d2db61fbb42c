// Proves the pure ACL core: policy parsing with named errors, glob matching (against a regex
// model, fuzzed), the capability check for every kind of need, and the route table's matching.
import { describe, expect, test } from "bun:test";
import { Prng } from "../lib/mod.ts";
import {
  allows,
  connectNeed,
  globMatch,
  type Identity,
  matchPath,
  parsePolicy,
  type Policy,
  routeNeed,
} from "./mod.ts";

const client = (...policies: Policy[]): Identity => ({
  kind: "client",
  accessor: "a-1",
  name: "ci",
  policies,
});

describe("parsePolicy", () => {
  test("a full policy parses; * expands to every capability and area", () => {
    const p = parsePolicy({
      name: "ops",
      description: "operators",
      jobs: { "backup-*": ["read", "run", "read"], "*": ["*"] },
      operator: ["pause", "members"],
    });
    expect(p.jobs).toEqual([
      { glob: "backup-*", capabilities: ["read", "run"] },
      { glob: "*", capabilities: ["read", "list", "write", "run", "kill", "delete"] },
    ]);
    expect(p.operator).toEqual(["members", "pause"]);
    expect(parsePolicy({ name: "all", operator: ["*"] }).operator).toHaveLength(7);
  });

  test("bad documents are refused naming the field and the value", () => {
    expect(() => parsePolicy(null)).toThrow("policy must be a JSON object");
    expect(() => parsePolicy({ name: "bad name" })).toThrow('policy name "bad name" is not valid');
    expect(() => parsePolicy({ name: "p", rules: {} })).toThrow('unknown field "rules"');
    expect(() => parsePolicy({ name: "p", jobs: { "*": ["fly"] } })).toThrow(
      'unknown capability "fly" on jobs["*"]',
    );
    expect(() => parsePolicy({ name: "p", jobs: { "*": ["operator"] } })).toThrow(
      '"operator" is granted on cluster areas',
    );
    expect(() => parsePolicy({ name: "p", jobs: { "*": "read" } })).toThrow(
      'jobs["*"] must be a list',
    );
    expect(() => parsePolicy({ name: "p", operator: ["root"] })).toThrow(
      'unknown operator area "root"',
    );
    expect(() => parsePolicy({ name: "p", jobs: [] })).toThrow("jobs must map");
  });
});

describe("globMatch", () => {
  test("stars and question marks", () => {
    expect(globMatch("*", "")).toBe(true);
    expect(globMatch("*", "anything")).toBe(true);
    expect(globMatch("team-*", "team-a")).toBe(true);
    expect(globMatch("team-*", "team-")).toBe(true);
    expect(globMatch("team-*", "steam-a")).toBe(false);
    expect(globMatch("a?c", "abc")).toBe(true);
    expect(globMatch("a?c", "ac")).toBe(false);
    expect(globMatch("*-prod-*", "web-prod-1")).toBe(true);
    expect(globMatch("exact", "exact")).toBe(true);
    expect(globMatch("exact", "exactly")).toBe(false);
  });

  test("agrees with a regex model on random globs and names", () => {
    const rng = new Prng(13);
    const alphabet = "ab-*?";
    const pick = (n: number, chars: string) =>
      Array.from({ length: rng.nextU32() % n }, () => chars[rng.nextU32() % chars.length]).join(
        "",
      );
    for (let i = 0; i < 5_000; i++) {
      const glob = pick(8, alphabet);
      const name = pick(10, "ab-");
      const model = new RegExp(
        "^" + glob.replace(/[-]/g, "\\-").replace(/\*/g, ".*").replace(/\?/g, ".") + "$",
      );
      expect({ glob, name, match: globMatch(glob, name) }).toEqual({
        glob,
        name,
        match: model.test(name),
      });
    }
  });

  test("a hostile glob stays linear-ish (no catastrophic backtracking)", () => {
    expect(globMatch("*a*a*a*a*a*a*a*a*b", "a".repeat(5_000))).toBe(false);
  });
});

describe("allows", () => {
  const runner = parsePolicy({ name: "r", jobs: { "team-*": ["read", "run"] } });
  const ops = parsePolicy({ name: "o", operator: ["pause"] });

  test("open and management identities may do anything", () => {
    for (
      const id of [{ kind: "open" }, { kind: "management", accessor: "m", name: "m" }] as const
    ) {
      expect(allows(id, { kind: "management" })).toBe(true);
      expect(allows(id, { kind: "job", cap: "delete", job: "x" })).toBe(true);
    }
  });

  test("a client gets exactly the union of its policies' grants", () => {
    const id = client(runner, ops);
    expect(allows(id, { kind: "job", cap: "run", job: "team-a" })).toBe(true);
    expect(allows(id, { kind: "job", cap: "run", job: "other" })).toBe(false);
    expect(allows(id, { kind: "job", cap: "delete", job: "team-a" })).toBe(false);
    expect(allows(id, { kind: "job", cap: "run", job: null })).toBe(true);
    expect(allows(id, { kind: "job", cap: "write", job: null })).toBe(false);
    expect(allows(id, { kind: "operator", area: "pause" })).toBe(true);
    expect(allows(id, { kind: "operator", area: "leave" })).toBe(false);
    expect(allows(id, { kind: "management" })).toBe(false);
    expect(allows(id, { kind: "token" })).toBe(true);
    expect(allows(client(), { kind: "job", cap: "read", job: "team-a" })).toBe(false);
  });
});

describe("route table", () => {
  test("path patterns bind and decode parameters", () => {
    expect(matchPath("/v1/jobs/:job/run", "/v1/jobs/a%20b/run")).toEqual({ job: "a b" });
    expect(matchPath("/v1/jobs/:job", "/v1/jobs/a/run")).toBeUndefined();
    expect(matchPath("/v1/jobs/:job", "/v1/jobs/")).toBeUndefined();
    expect(matchPath("/ui/*", "/ui/assets/x.js")).toEqual({});
    expect(matchPath("/v1/jobs/:job", "/v1/jobs/%E0%A4%A")).toEqual({ job: "%E0%A4%A" });
  });

  test("routes map to their needs; unknown routes need management; preflights are public", () => {
    expect(routeNeed("POST", "/v1/jobs/nightly/run").need).toEqual({
      kind: "job",
      cap: "run",
      job: "nightly",
    });
    expect(routeNeed("HEAD", "/v1/jobs/n").need).toEqual({ kind: "job", cap: "read", job: "n" });
    expect(routeNeed("POST", "/v1/pause").need).toEqual({ kind: "operator", area: "pause" });
    expect(routeNeed("GET", "/v1/secret-new-route").need).toEqual({ kind: "management" });
    expect(routeNeed("OPTIONS", "/v1/jobs").need).toEqual({ kind: "public" });
    expect(routeNeed("POST", "/tock.v1.JobService/RunJob").need).toEqual({ kind: "connect" });
    // Another service mounted on the API port is closed until classified.
    expect(routeNeed("POST", "/tock.v1.RaftService/Send").need).toEqual({ kind: "management" });
  });

  test("Connect methods name their capability; an unknown method needs management", () => {
    expect(connectNeed("RunJob", "x")).toEqual({ kind: "job", cap: "run", job: "x" });
    expect(connectNeed("ListJobs", "")).toEqual({ kind: "job", cap: "list", job: null });
    expect(connectNeed("DropCluster", "")).toEqual({ kind: "management" });
  });
});
