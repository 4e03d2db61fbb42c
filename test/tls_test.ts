// Proves HTTPS on the API with certificates from `tock tls ca create` / `tls cert create`:
// the right CA and client certificate are served; a client trusting another CA, a client
// certificate from another CA, a missing or expired client certificate, an expired server
// certificate and a plain-text client all fail; new certificates load on SIGHUP without restart.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { connect as tlsConnect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../src/cli/mod.ts";
import { createCa, createLeaf, type Pem, validityDays } from "../src/cli/tls_certs.ts";
import { defaultNodeIo } from "../src/node/mod.ts";
import { loadRuntime, type Runtime } from "../src/runtime/mod.ts";
import { startTestNode, type TestNode } from "./support/node.ts";
import { startAgent, until } from "./support/proc.ts";

let dir: string;
let runtime: Runtime;
let ca: Pem, server: Pem, client: Pem;
let otherCa: Pem, otherClient: Pem, expiredClient: Pem, expiredServer: Pem;
let mtls: TestNode;

const day = 24 * 3600 * 1000;
const read = (name: string) => readFileSync(join(dir, name), "utf8");
/** A new server certificate from the test CA for localhost, valid for a day from now. */
const freshServerCert = () =>
  createLeaf(ca, {
    kind: "server",
    commonName: "server.tock",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
    validity: validityDays(Date.now(), 1),
  });

async function tock(...args: string[]) {
  let out = "", err = "";
  const code = await runCli(
    {
      runtime,
      out: (l) => (out += l + "\n"),
      write: (chunk) => (out += new TextDecoder().decode(chunk)),
      err: (l) => (err += l + "\n"),
      nodeIo: () => defaultNodeIo(runtime),
    },
    args,
  );
  return { code, out, err };
}

/** One HTTPS GET on a fresh connection: the status, or the client-side error message. */
function get(
  url: string,
  opts: { ca?: string; cert?: string; key?: string },
): Promise<{ status: number } | { error: string }> {
  return new Promise((resolve) => {
    const req = request(url, { ...opts, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on("error", (e) => resolve({ error: e.message }));
    req.end();
  });
}

function peerSerial(port: number, pem: { ca: string; cert: string; key: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: "127.0.0.1", port, ...pem, servername: "localhost" }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      s.end();
      resolve(serial);
    });
    s.on("error", reject);
  });
}

beforeAll(async () => {
  runtime = await loadRuntime();
  dir = mkdtempSync(join(tmpdir(), "tock-tls-"));
  expect((await tock("tls", "ca", "create", "--dir", dir)).code).toBe(0);
  for (const kind of ["--server", "--client"]) {
    expect(
      (await tock(
        "tls",
        "cert",
        "create",
        kind,
        "--dir",
        dir,
        "--ca",
        join(dir, "tock-agent-ca.pem"),
        "--key",
        join(dir, "tock-agent-ca-key.pem"),
      )).code,
    ).toBe(0);
  }
  ca = { cert: read("tock-agent-ca.pem"), key: read("tock-agent-ca-key.pem") };
  server = { cert: read("tock-server-0.pem"), key: read("tock-server-0-key.pem") };
  client = { cert: read("tock-client-0.pem"), key: read("tock-client-0-key.pem") };
  const now = Date.now();
  otherCa = await createCa("Other CA", validityDays(now, 10));
  const leaf = (kind: "server" | "client", from: Pem, validity = validityDays(now, 1)) =>
    createLeaf(from, {
      kind,
      commonName: `${kind}.tock`,
      dnsNames: kind === "server" ? ["localhost"] : [],
      ipAddresses: kind === "server" ? ["127.0.0.1"] : [],
      validity,
    });
  const past = { notBefore: new Date(now - 3 * day), notAfter: new Date(now - day) };
  otherClient = await leaf("client", otherCa);
  expiredClient = await leaf("client", ca, past);
  expiredServer = await leaf("server", ca, past);
  mtls = await startTestNode(join(dir, "data"), "tls-node", {
    tls: { cert: server.cert, key: server.key, ca: ca.cert, requireClientCert: true },
  });
}, 30_000);

afterAll(async () => {
  await mtls?.stop(2_000);
  rmSync(dir, { recursive: true, force: true });
}, 20_000);

describe("HTTPS API with client certificates", () => {
  test("the cluster CA and a client certificate from it are served (HTTP and CLI)", async () => {
    expect(mtls.url.startsWith("https://127.0.0.1:")).toBe(true);
    expect(await get(`${mtls.url}/health`, { ca: ca.cert, ...client })).toEqual({ status: 200 });
    const ls = await tock(
      "job",
      "ls",
      "--address",
      mtls.url,
      "--ca-file",
      join(dir, "tock-agent-ca.pem"),
      "--cert-file",
      join(dir, "tock-client-0.pem"),
      "--key-file",
      join(dir, "tock-client-0-key.pem"),
    );
    expect(ls).toMatchObject({ code: 0 });
    expect(ls.out).toMatch(/^NAME\s+SCHEDULE/);
  });

  test(
    "job run --wait streams over mutual TLS (Connect with the CLI's CA and certificate)",
    async () => {
      const pem = {
        "--ca-file": join(dir, "tock-agent-ca.pem"),
        "--cert-file": join(dir, "tock-client-0.pem"),
        "--key-file": join(dir, "tock-client-0-key.pem"),
      };
      const flags = Object.entries(pem).flat();
      const file = join(dir, "hello.yaml");
      writeFileSync(
        file,
        "name: hello\nschedule: '@daily'\nexecutor: shell\nexecutor_config:\n  command: echo over-tls\n",
      );
      expect(await tock("job", "apply", "-f", file, "--address", mtls.url, ...flags)).toMatchObject(
        {
          code: 0,
        },
      );
      const run = await tock("job", "run", "hello", "--wait", "--address", mtls.url, ...flags);
      expect({ code: run.code, out: run.out }).toEqual({ code: 0, out: "over-tls\n" });
    },
    30_000,
  );

  test("a client that trusts another CA refuses the server", async () => {
    const r = await get(`${mtls.url}/health`, { ca: otherCa.cert, ...client });
    expect("error" in r && r.error).toMatch(/self[- ]signed|unable to (verify|get)|certificate/i);
  });

  test("a client certificate from another CA, an expired one, or none is refused", async () => {
    for (const c of [otherClient, expiredClient, undefined]) {
      const r = await get(`${mtls.url}/health`, { ca: ca.cert, ...(c ?? {}) });
      expect({
        which: c === undefined ? "none" : c === otherClient ? "other CA" : "expired",
        ok: "status" in r && r.status === 200,
      })
        .toEqual({
          which: c === undefined ? "none" : c === otherClient ? "other CA" : "expired",
          ok: false,
        });
    }
  });

  test("a plain-text client gets no answer from the HTTPS port", async () => {
    const plain = await fetch(mtls.url.replace("https://", "http://") + "/health").then(
      (r) => `status ${r.status}`,
      (e) => `error ${(e as Error).message}`,
    );
    expect(plain).not.toBe("status 200");
  });

  test("an expired server certificate is refused by the client, naming the expiry", async () => {
    const node = await startTestNode(join(dir, "data-expired"), "expired-node", {
      tls: { cert: expiredServer.cert, key: expiredServer.key },
    });
    try {
      const r = await get(`${node.url}/health`, { ca: ca.cert });
      expect("error" in r && r.error).toMatch(/expired/i);
    } finally {
      await node.stop(2_000);
    }
  }, 20_000);

  test("reloadTls serves new connections with the new certificate, on the same port", async () => {
    const before = await peerSerial(mtls.port, { ca: ca.cert, ...client });
    const fresh = await freshServerCert();
    await mtls.reloadTls({
      cert: fresh.cert,
      key: fresh.key,
      ca: ca.cert,
      requireClientCert: true,
    });
    const after = await peerSerial(mtls.port, { ca: ca.cert, ...client });
    expect(after).not.toBe(before);
    expect(await get(`${mtls.url}/health`, { ca: ca.cert, ...client })).toEqual({ status: 200 });
  });
});

describe("tock agent with --cert-file (process)", () => {
  test("SIGHUP reloads the certificates without a restart", async () => {
    const data = join(dir, "proc-data");
    const agent = await startAgent([
      "--server",
      "--bootstrap-expect",
      "1",
      "--data-dir",
      data,
      "--http-addr",
      "127.0.0.1:0",
      "--cert-file",
      join(dir, "tock-server-0.pem"),
      "--key-file",
      join(dir, "tock-server-0-key.pem"),
    ]);
    try {
      expect(agent.url.startsWith("https://")).toBe(true);
      const port = Number(new URL(agent.url).port);
      const before = await peerSerial(port, { ca: ca.cert, ...client });
      const fresh = await freshServerCert();
      writeFileSync(join(dir, "tock-server-0.pem"), fresh.cert);
      writeFileSync(join(dir, "tock-server-0-key.pem"), fresh.key);
      agent.proc.kill("SIGHUP");
      await until(
        "the reload line",
        () => agent.output().includes("certificates reloaded") ? true : undefined,
        15_000,
      );
      expect(await peerSerial(port, { ca: ca.cert, ...client })).not.toBe(before);
      expect(await get(`${agent.url}/health`, { ca: ca.cert })).toEqual({ status: 200 });
    } finally {
      agent.proc.kill("SIGTERM");
      await agent.exited;
    }
  }, 40_000);
});
