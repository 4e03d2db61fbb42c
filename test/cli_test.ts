// Proves the tock CLI end to end: client commands against a live server, version, keygen,
// completion, usage errors, and that `tock agent` refuses a bad config value with one clear line.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../src/cli/mod.ts";
import { defaultNodeIo } from "../src/node/mod.ts";
import { loadRuntime } from "../src/runtime/mod.ts";
import { startTestNode, type TestNode } from "./support/node.ts";
import { bunBin, notYet, repoRoot, slowWait, until } from "./support/proc.ts";

let node: TestNode;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tock-cli-"));
  node = await startTestNode(join(dir, "data"));
});
afterAll(async () => {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function tock(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const runtime = await loadRuntime();
  let out = "", err = "";
  const code = await runCli(
    {
      runtime,
      out: (l) => (out += l + "\n"),
      err: (l) => (err += l + "\n"),
      nodeIo: () => defaultNodeIo(runtime),
      write: (chunk) => (out += new TextDecoder().decode(chunk)),
    },
    args,
  );
  return { code, out, err };
}

describe("client commands", () => {
  test("job apply (YAML list), ls, get, run, exec ls/get, toggle, delete", async () => {
    const file = join(dir, "jobs.yaml");
    writeFileSync(
      file,
      "- name: backup\n  schedule: '@daily'\n  executor: shell\n  executor_config:\n    command: echo backed up\n" +
        "- name: sync\n  schedule: '0 */5 * * * *'\n  executor: shell\n  executor_config:\n    command: 'true'\n",
    );
    const a = ["--address", node.url];
    expect(await tock("job", "apply", "-f", file, ...a)).toMatchObject({
      code: 0,
      out: 'job "backup" applied\njob "sync" applied\n',
    });
    const ls = await tock("job", "ls", ...a);
    expect(ls.out.split("\n")[0]).toMatch(/^NAME\s+SCHEDULE\s+NEXT\s+STATUS/);
    expect(ls.out).toContain("backup");
    expect(JSON.parse((await tock("job", "get", "sync", ...a)).out).schedule).toBe("0 */5 * * * *");
    expect((await tock("job", "run", "backup", ...a)).out).toMatch(
      /^job "backup" started \(execution \d+-1\)\n$/,
    );
    expect((await tock("job", "next", "sync", "3", ...a)).out.trim().split("\n")).toHaveLength(3);
    const id = await until("an execution", async () => {
      const r = await tock("exec", "ls", "backup", ...a);
      const line = r.out.split("\n")[1];
      return line && line.includes("success") ? line.split(/\s+/)[0] : notYet(r.out);
    }, slowWait.untilMs);
    expect(JSON.parse((await tock("exec", "get", "backup", id as string, ...a)).out).output).toBe(
      "backed up\n",
    );
    await tock("job", "apply", "-f", file, ...a);
    await fetch(`${node.url}/v1/jobs`, {
      method: "POST",
      body: JSON.stringify({
        name: "hang",
        schedule: "@manually",
        executor: "shell",
        executor_config: { command: "sleep 60" },
        concurrency: "forbid",
      }),
    });
    const hang = (await tock("job", "run", "hang", ...a)).out.match(/execution (\S+)\)/)
      ?.[1] as string;
    expect((await tock("job", "run", "hang", ...a)).err).toContain("concurrency is forbid");
    const forced = (await tock("job", "run", "hang", "--force", ...a)).out.match(
      /execution (\S+)\)/,
    )?.[1] as string;
    expect((await tock("exec", "kill", "hang", hang, ...a)).out).toBe(
      `execution ${hang} of job "hang" killed (failed)\n`,
    );
    expect((await tock("exec", "kill", "hang", forced, ...a)).code).toBe(0);
    expect((await tock("job", "toggle", "sync", ...a)).out).toBe('job "sync" disabled\n');
    expect((await tock("job", "delete", "sync", ...a)).out).toBe('job "sync" deleted\n');
  }, slowWait.testMs);

  test("errors are one line with the server's message and exit code 1", async () => {
    const r = await tock("job", "get", "nope", "--address", node.url);
    expect(r.code).toBe(1);
    expect(r.err).toBe('tock: GET /v1/jobs/nope: 404 job "nope" not found\n');
    expect((await tock("job", "get", "--address", node.url)).err).toContain("missing job name");
    expect((await tock("job", "fly")).err).toContain('unknown subcommand "fly"');
    expect((await tock("job", "ls", "--address", "http://127.0.0.1:1")).err).toContain(
      "cannot reach Tock",
    );
  });
});

describe("local commands", () => {
  test("version, keygen, completion, usage", async () => {
    expect((await tock("version")).out).toMatch(
      /^Name: Tock\nVersion: \d+\.\d+\.\d+\nRuntime: bun /,
    );
    const key = (await tock("keygen")).out.trim();
    expect(atob(key)).toHaveLength(32);
    expect(atob((await tock("keygen", "--bytes", "16")).out.trim())).toHaveLength(16);
    expect((await tock("keygen", "--bytes", "7")).code).toBe(1);
    expect((await tock("completion", "bash")).out).toContain("complete -F _tock tock");
    expect((await tock("completion", "zsh")).out).toContain("#compdef tock");
    expect((await tock("completion", "fish")).out).toContain("complete -c tock");
    expect((await tock("completion", "tcsh")).code).toBe(1);
    expect((await tock("frobnicate")).code).toBe(2);
  });

  test("agent with a bad config value exits 1 with one clear error", () => {
    const r = spawnSync(bunBin, [join(repoRoot, "src/main.ts"), "agent", "--dev"], {
      env: { ...process.env, TOCK_HTTP_ADDR: "nonsense" },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      'tock: invalid http-addr "nonsense" (from env TOCK_HTTP_ADDR): expected HOST:PORT, e.g. 127.0.0.1:8080 or :8080',
    );
  });
});
