// Proves the single binary: `bun run scripts/compile.ts` builds dist/tock, which, started from an
// EMPTY temp directory (no ui/, no dist/, no node_modules), answers /health, serves the embedded
// UI page and its hashed assets, stores a job in its own SQLite data dir, and exits 0 on SIGTERM.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type AgentProcess, startAgent } from "./support/proc.ts";

const root = resolve(import.meta.dir, "..");
const binary = join(root, "dist/tock");
/** Every wait in this file polls up to this deadline, then fails with what it saw. */
const deadlineMs = 20_000;

let dir = "";
let agent: AgentProcess | undefined;
let base = "";

async function pollStatus(url: string, want: number): Promise<Response> {
  const until = Date.now() + deadlineMs;
  let seen = "nothing yet";
  while (Date.now() < until) {
    try {
      const res = await fetch(url);
      if (res.status === want) return res;
      seen = `HTTP ${res.status}`;
    } catch (e) {
      seen = String(e);
    }
    await Bun.sleep(5); // a poll interval with a deadline, not a wait for a condition
  }
  throw new Error(`${url} never answered ${want}; last: ${seen}`);
}

beforeAll(async () => {
  const build = Bun.spawnSync([process.execPath, "run", "scripts/compile.ts"], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (build.exitCode !== 0) {
    throw new Error(`compile failed:\n${build.stdout.toString()}${build.stderr.toString()}`);
  }
  expect(existsSync(binary)).toBe(true);
  dir = mkdtempSync(join(tmpdir(), "tock-bin-"));
  expect(readdirSync(dir)).toEqual([]);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith("TOCK_")) env[k] = v;
  }
  agent = await startAgent(["--dev", "--http-addr", "127.0.0.1:0"], {
    command: [binary],
    cwd: dir,
    env,
    timeoutMs: deadlineMs,
  });
  base = agent.url;
}, 60_000);

afterAll(() => {
  if (agent !== undefined && agent.proc.exitCode === null) agent.proc.kill("SIGKILL");
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

test("the compiled binary answers /health from an empty directory", async () => {
  const res = await pollStatus(`${base}/health`, 200);
  expect(await res.json()).toEqual({ status: "healthy" });
}, deadlineMs + 10_000);

test("the binary serves the embedded UI page and its hashed assets", async () => {
  const page = await fetch(`${base}/ui/`);
  expect(page.status).toBe(200);
  expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
  const html = await page.text();
  expect(html).toContain("<title>Tock</title>");
  const js = /src="\.\/([a-z]+-[0-9a-f]{8}\.js)"/.exec(html)?.[1];
  const css = /href="\.\/([a-z]+-[0-9a-f]{8}\.css)"/.exec(html)?.[1];
  expect(js).toBeDefined();
  expect(css).toBeDefined();
  const script = await fetch(`${base}/ui/${js}`);
  expect(script.status).toBe(200);
  expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
  expect(script.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  expect(await script.text()).toContain("watchExecution"); // the UI calls the Connect client
  const style = await fetch(`${base}/ui/${css}`);
  expect(style.status).toBe(200);
  expect(style.headers.get("content-type")).toBe("text/css; charset=utf-8");
  const redirect = await fetch(`${base}/`, {
    redirect: "manual",
    headers: { accept: "text/html" },
  });
  expect(redirect.status).toBe(303);
  expect(redirect.headers.get("location")).toBe("/ui/");
});

test("the binary stores a job in its data dir inside the empty directory", async () => {
  const job = {
    name: "binjob",
    schedule: "@every 1h",
    executor: "shell",
    executor_config: { command: "true" },
  };
  const created = await fetch(`${base}/v1/jobs`, { method: "POST", body: JSON.stringify(job) });
  expect(created.status).toBe(201);
  const got = await fetch(`${base}/v1/jobs/binjob`);
  expect(got.status).toBe(200);
  expect(((await got.json()) as { schedule: string }).schedule).toBe("@every 1h");
  expect(readdirSync(dir)).toContain("tock-data");
});

test("SIGTERM stops the binary with exit code 0", async () => {
  const a = agent as AgentProcess;
  a.proc.kill("SIGTERM");
  const code = await Promise.race([
    a.exited,
    new Promise<"timeout">((r) => setTimeout(() => r("timeout"), deadlineMs)),
  ]);
  if (code !== 0) console.error(`tock output:\n${a.output()}`);
  expect(code).toBe(0); // an exit code, not a signal name or "timeout"
}, deadlineMs + 10_000);

test("the binary creates a CA and a server certificate (the X.509 library loads bundled)", () => {
  const pki = mkdtempSync(join(tmpdir(), "tock-bin-pki-"));
  try {
    const run = (...args: string[]) =>
      Bun.spawnSync([binary, ...args], { cwd: pki, stderr: "pipe" });
    const ca = run("tls", "ca", "create");
    expect({ code: ca.exitCode, err: ca.stderr.toString() }).toEqual({ code: 0, err: "" });
    const cert = run("tls", "cert", "create", "--server");
    expect({ code: cert.exitCode, err: cert.stderr.toString() }).toEqual({ code: 0, err: "" });
    expect(readdirSync(pki).sort()).toEqual([
      "tock-agent-ca-key.pem",
      "tock-agent-ca.pem",
      "tock-server-0-key.pem",
      "tock-server-0.pem",
    ]);
  } finally {
    rmSync(pki, { recursive: true, force: true });
  }
});
