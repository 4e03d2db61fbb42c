// Proves the grpc executor against a real gRPC server: grpc-go's health service with server
// reflection (test/fixtures/gobrokers/grpcserver, built and started here). Covers reflection and
// descriptor-set lookup, status -> success/failure, expectCode, metadata, a down server, a
// server without reflection, a silent server (timeout) and abort.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { executorRegistry } from "../src/executor/mod.ts";
import { readFileSync } from "node:fs";
import { runExecutor } from "./support/executors.ts";
import { until } from "./support/proc.ts";
import { type GoServer, startGoServer } from "./support/gobrokers.ts";

const grpcExec = executorRegistry().get("grpc")!;
const dir = mkdtempSync(join(tmpdir(), "tock-grpc-"));
const descriptorSet = join(dir, "health.binpb");
let server: GoServer;
let bare: GoServer;
let silent: net.Server;
const sockets: net.Socket[] = [];
const check = "grpc.health.v1.Health/Check";

beforeAll(async () => {
  server = await startGoServer("grpcserver", ["-descriptor-out", descriptorSet]);
  bare = await startGoServer("grpcserver", ["-no-reflection"]);
  silent = net.createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
}, 600_000); // the first run on a machine builds the Go fixtures

afterAll(() => {
  server?.stop();
  bare?.stop();
  for (const s of sockets) s.destroy();
  silent?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Established TCP connections (from any local socket) to 127.0.0.1:port, from /proc/net/tcp. */
function establishedTo(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  return readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1).filter((line) => {
    const f = line.trim().split(/\s+/);
    return f[2] === `0100007F:${hexPort}` && f[3] === "01";
  }).length;
}

describe("grpc executor", () => {
  test("calls a unary method found by reflection; the reply is the output", async () => {
    const r = await runExecutor(grpcExec, {
      url: `${server.addr}/${check}`,
      body: '{"service": "tock"}',
    });
    expect(r.error).toBe("");
    expect(r.success).toBe(true);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.output)).toEqual({ status: "SERVING" });
  });

  test("a non-OK status fails the run with the code and the server's message", async () => {
    const r = await runExecutor(grpcExec, {
      url: `${server.addr}/${check}`,
      body: '{"service": "nosuch"}',
    });
    expect(r.success).toBe(false);
    expect(r.exitCode).toBe(5);
    expect(r.error).toContain("grpc: server returned 5 (NotFound) code, expected 0");
  });

  test("expectCode accepts the status it names", async () => {
    const r = await runExecutor(grpcExec, {
      url: `${server.addr}/${check}`,
      body: '{"service": "nosuch"}',
      expectCode: "5",
    });
    expect(r.error).toBe("");
    expect(r.success).toBe(true);
  });

  test("a descriptor set file replaces reflection", async () => {
    const r = await runExecutor(grpcExec, {
      url: `${bare.addr}/${check}`,
      body: '{"service": "down"}',
      descriptorSet,
      headers: '["x-tock-job: job1"]',
    });
    expect(r.error).toBe("");
    expect(JSON.parse(r.output)).toEqual({ status: "NOT_SERVING" });
    expect(grpcExec.validate({ url: `h:1/${check}`, descriptorSet })).toBeUndefined();
    expect(grpcExec.validate({ url: "h:1/grpc.health.v1.Health/Nope", descriptorSet })).toContain(
      "has no method Nope (has: Check,",
    );
    expect(grpcExec.validate({ url: "h:1/grpc.health.v1.Health/Watch", descriptorSet })).toContain(
      "is server_streaming, not unary",
    );
  });

  test("headers are sent as metadata", async () => {
    const url = `${server.addr}/${check}`;
    const refused = await runExecutor(grpcExec, { url, headers: '["x-tock-require: token"]' });
    expect(refused.success).toBe(false);
    expect(refused.error).toContain("server returned 16 (Unauthenticated) code, expected 0");
    expect(refused.error).toContain("x-tock-token missing or wrong");
    const allowed = await runExecutor(grpcExec, {
      url,
      headers: '["x-tock-require: token", "X-Tock-Token: secret"]',
    });
    expect(allowed.error).toBe("");
  });

  test("a server without reflection fails the run saying so", async () => {
    const r = await runExecutor(grpcExec, { url: `${bare.addr}/${check}` });
    expect(r.success).toBe(false);
    expect(r.error).toContain(`grpc: reflection on ${bare.addr} failed: Unimplemented`);
  });

  test("a body that does not fit the input message fails naming the type", async () => {
    const r = await runExecutor(grpcExec, {
      url: `${server.addr}/${check}`,
      body: '{"servce": "x"}',
    });
    expect(r.success).toBe(false);
    expect(r.error).toContain("grpc: body does not fit grpc.health.v1.HealthCheckRequest");
  });

  test("a server that is down fails the run with the connection error", async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const r = await runExecutor(grpcExec, { url: `127.0.0.1:${port}/${check}` });
    expect(r.success).toBe(false);
    expect(r.error).toContain(`grpc: reflection on 127.0.0.1:${port} failed`);
    expect(r.error).toContain("ECONNREFUSED");
  });

  test("a server that never answers ends at the timeout; abort ends a call", async () => {
    const port = (silent.address() as net.AddressInfo).port;
    const r = await runExecutor(grpcExec, { url: `127.0.0.1:${port}/${check}`, timeout: "1" });
    expect(r.success).toBe(false);
    expect(r.error).toMatch(/timed out|deadline/i);
    const abort = new AbortController();
    const running = runExecutor(grpcExec, { url: `127.0.0.1:${port}/${check}` }, {
      signal: abort.signal,
    });
    setTimeout(() => abort.abort(), 100);
    const a = await running;
    expect(a.success).toBe(false);
    expect(a.error).toBe("grpc: execution aborted");
  }, 20_000);

  test("no connection is left open after the runs", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await runExecutor(grpcExec, { url: `${server.addr}/${check}` });
      expect(r.error).toBe("");
    }
    // Regression: each run's HTTP/2 connection stayed open (idle) for minutes.
    const port = Number(server.addr.split(":")[1]);
    await until(
      `no established connection to ${server.addr}`,
      () => (establishedTo(port) === 0 ? true : undefined),
      10_000,
    );
  }, 20_000);

  test("validate gives Dkron's messages", () => {
    expect(grpcExec.validate({ url: "h:1" })).toContain("is not host:port/package.Service/Method");
    expect(grpcExec.validate({ url: `h:1/${check}`, timeout: "x" })).toContain("Invalid timeout");
    expect(grpcExec.validate({ url: `h:1/${check}`, expectCode: "99" })).toContain(
      "Invalid expectCode",
    );
    expect(grpcExec.validate({ url: `h:1/${check}`, headers: "nope" })).toContain(
      "Parsing headers failed",
    );
    expect(grpcExec.validate({ url: `h:1/${check}`, body: "{" })).toContain("body is not JSON");
    expect(grpcExec.validate({ url: `h:1/${check}`, descriptorSet: "/nonexistent" })).toContain(
      "cannot be read",
    );
    expect(grpcExec.validate({ url: `h:1/${check}` })).toBeUndefined();
  });
});
