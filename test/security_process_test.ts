// Proves the security defaults on the real `tock` process: an open API on a non-loopback address
// refuses to start with one message naming both flags; with --acl-enabled, `tock acl bootstrap`
// prints the management token once, client commands need it (--token / TOCK_TOKEN), and every
// write is one JSON audit line in the server log.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bunBin, repoRoot, startAgent, until } from "./support/proc.ts";

const dir = mkdtempSync(join(tmpdir(), "tock-security-proc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tock = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(bunBin, [`${repoRoot}/src/main.ts`, ...args], {
    encoding: "utf8",
    timeout: 30_000,
    env: { ...process.env, TOCK_TOKEN: "", ...env },
  });

describe("tock agent security defaults", () => {
  test("an open API on 0.0.0.0 refuses to start, naming --acl-enabled and --insecure-api", () => {
    const r = tock([
      "agent",
      "--server",
      "--bootstrap-expect",
      "1",
      "--data-dir",
      join(dir, "refused"),
      "--http-addr",
      "0.0.0.0:0",
    ]);
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("refusing to serve the HTTP API on 0.0.0.0 without ACLs");
    expect(lines[0]).toContain("--acl-enabled (config acl: {enabled: true})");
    expect(lines[0]).toContain("--insecure-api");
  }, 40_000);

  test("bootstrap over the CLI, token-gated client commands, audit lines in the log", async () => {
    const agent = await startAgent([
      "--server",
      "--bootstrap-expect",
      "1",
      "--data-dir",
      join(dir, "acl"),
      "--http-addr",
      "127.0.0.1:0",
      "--acl-enabled",
    ]);
    try {
      const boot = tock(["acl", "bootstrap", "--address", agent.url]);
      expect(boot.status).toBe(0);
      const secret = /Secret ID\s+= (\S+)/.exec(boot.stdout)?.[1] as string;
      expect(secret).toMatch(/^tock_[A-Za-z0-9_-]{43}$/);
      const again = tock(["acl", "bootstrap", "--address", agent.url]);
      expect(again.status).toBe(1);
      expect(again.stderr).toContain("409 ACL bootstrap already done");
      const anon = tock(["job", "ls", "--address", agent.url]);
      expect(anon.status).toBe(1);
      expect(anon.stderr).toContain("401 ACL token required");
      expect(tock(["job", "ls", "--address", agent.url], { TOCK_TOKEN: secret }).status).toBe(0);
      expect(tock(["job", "ls", "--address", agent.url, "--token", secret]).status).toBe(0);
      const line = await until(
        "the bootstrap audit line",
        () =>
          agent.output().split("\n").find((l) => l.includes('"action":"POST /v1/acl/bootstrap"')),
      );
      expect(JSON.parse(line).audit).toMatchObject({ status: 200, remote: "127.0.0.1" });
      expect(agent.output()).not.toContain(secret);
    } finally {
      agent.proc.kill("SIGTERM");
      await agent.exited;
    }
  }, 60_000);
});

describe("security commands' help", () => {
  test("acl, audit, tls and the agent's security flags have --help", () => {
    for (
      const [args, want] of [
        [["acl", "--help"], "bootstrap"],
        [["audit", "-h"], "--after SEQ"],
        [["tls", "--help"], "tock tls cert create --server|--client"],
        [["agent", "--help"], "--acl-enabled"],
      ] as const
    ) {
      const r = tock([...args]);
      expect({ args, status: r.status, has: r.stdout.includes(want) }).toEqual({
        args,
        status: 0,
        has: true,
      });
    }
  }, 60_000);
});
