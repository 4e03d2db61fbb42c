// Proves the security layer is portable: under `deno run` the agent serves HTTPS with a
// certificate from `tock tls`, requires a token with --acl-enabled, and bootstraps once.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCa, createLeaf, validityDays } from "../src/cli/tls_certs.ts";
import { repoRoot, startAgent } from "./support/proc.ts";

const dir = mkdtempSync(join(tmpdir(), "tock-deno-sec-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function call(url: string, ca: string, method = "GET"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca, agent: false }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("HTTPS and ACLs under deno", async () => {
  const ca = await createCa("Deno Test CA", validityDays(Date.now(), 1));
  const leaf = await createLeaf(ca, {
    kind: "server",
    commonName: "server.tock",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
    validity: validityDays(Date.now(), 1),
  });
  writeFileSync(join(dir, "cert.pem"), leaf.cert);
  writeFileSync(join(dir, "key.pem"), leaf.key);
  const deno = join(repoRoot, "node_modules/.bin/deno");
  const a = await startAgent([
    "--server",
    "--bootstrap-expect",
    "1",
    "--http-addr",
    "127.0.0.1:0",
    "--data-dir",
    join(dir, "data"),
    "--acl-enabled",
    "--cert-file",
    join(dir, "cert.pem"),
    "--key-file",
    join(dir, "key.pem"),
  ], {
    command: [deno, "run", "-A", "--unstable-no-legacy-abort", join(repoRoot, "src/main.ts")],
    timeoutMs: 60_000,
  });
  try {
    expect(a.url.startsWith("https://127.0.0.1:")).toBe(true);
    expect(await call(`${a.url}/health`, ca.cert)).toEqual({
      status: 200,
      body: '{"status":"healthy"}',
    });
    expect((await call(`${a.url}/v1/jobs`, ca.cert)).status).toBe(401);
    const boot = await call(`${a.url}/v1/acl/bootstrap`, ca.cert, "POST");
    expect(boot.status).toBe(200);
    expect(JSON.parse(boot.body).secret).toMatch(/^tock_/);
    expect((await call(`${a.url}/v1/acl/bootstrap`, ca.cert, "POST")).status).toBe(409);
  } finally {
    a.proc.kill("SIGTERM");
    await a.exited;
  }
}, 90_000);
