// Proves the http executor against a real local server (node:http and node:https on port 0):
// Dkron's TestExecute vectors, headers, body, expectCode/expectBody, streamed and capped output,
// timeout, abort, TLS verification on and off, and config validation with named problems.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ExecutionResult, executorRegistry } from "./mod.ts";

const httpExec = executorRegistry().get("http")!;
const dir = mkdtempSync(join(tmpdir(), "tock-http-"));
const hanging: http.ServerResponse[] = [];

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString();
    const path = req.url ?? "/";
    if (path === "/200") res.writeHead(200).end();
    else if (path === "/400") res.writeHead(400).end();
    else if (path === "/404") res.writeHead(404).end();
    else if (path === "/hello") res.writeHead(200).end("hello");
    else if (path === "/echo") res.writeHead(200).end(body);
    else if (path === "/headers") {
      res.writeHead(200).end(
        `${req.method} ${req.headers["x-token"]} ${req.headers["content-type"]}`,
      );
    } else if (path === "/moved") res.writeHead(301, { location: "/hello" }).end();
    else if (path === "/see-other") res.writeHead(303, { location: `${base}/echo` }).end();
    else if (path === "/temp") res.writeHead(307, { location: "/echo" }).end();
    else if (path === "/loop") res.writeHead(302, { location: "/loop" }).end();
    else if (path === "/big") res.writeHead(200).end("y".repeat(100_000));
    else if (path === "/hang") {
      res.writeHead(200);
      res.write("partial ");
      hanging.push(res);
    } else res.writeHead(500).end("unknown path");
  });
}

let server: http.Server;
let base = "";
let tlsServer: https.Server | undefined;
let tlsBase = "";
const haveOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

beforeAll(async () => {
  server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  if (haveOpenssl) {
    execFileSync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ], { stdio: "ignore" });
    tlsServer = https.createServer({
      key: readFileSync(join(dir, "key.pem")),
      cert: readFileSync(join(dir, "cert.pem")),
    }, handler);
    await new Promise<void>((r) => tlsServer!.listen(0, "127.0.0.1", r));
    tlsBase = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
  }
});

afterAll(async () => {
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  tlsServer?.closeAllConnections();
  await new Promise((r) => server.close(r));
  if (tlsServer) await new Promise((r) => tlsServer!.close(r));
  rmSync(dir, { recursive: true, force: true });
});

async function run(
  config: Record<string, string>,
  opts: { outputBytesMax?: number; signal?: AbortSignal } = {},
): Promise<ExecutionResult & { text: string }> {
  let text = "";
  const r = await httpExec.run({
    executionId: "e1",
    jobName: "job",
    executor: "http",
    config,
    signal: opts.signal ?? new AbortController().signal,
    outputBytesMax: opts.outputBytesMax ?? 256_000,
    onOutput: (c) => {
      text += new TextDecoder().decode(c);
    },
  });
  return { ...r, text };
}

describe("http executor", () => {
  test("Dkron's TestExecute vectors", async () => {
    expect(await run({ method: "GET", url: `${base}/200`, expectCode: "200" })).toMatchObject({
      success: true,
      exitCode: 200,
      text: "",
    });
    expect((await run({ method: "GET", url: `${base}/400`, expectCode: "400" })).success).toBe(
      true,
    );
    expect((await run({ method: "GET", url: `${base}/404`, expectCode: "404" })).success).toBe(
      true,
    );
    expect(await run({ method: "GET", url: `${base}/400`, expectCode: "200" })).toMatchObject({
      success: false,
      exitCode: 400,
      error: "received response code does not match the expected code",
    });
    expect(await run({ method: "GET", url: "" })).toMatchObject({
      success: false,
      error: "url is empty",
    });
    expect(await run({ method: "", url: `${base}/200` })).toMatchObject({
      success: false,
      error: "method is empty",
    });
    expect(await run({ method: "GET", url: `${base}/hello` })).toMatchObject({
      success: true,
      text: "hello",
    });
    expect(
      await run({ method: "POST", url: `${base}/echo`, body: "X", expectBody: "X" }),
    ).toMatchObject({ success: true, text: "X" });
    expect(
      await run({ method: "POST", url: `${base}/echo`, body: "X", expectBody: "not this" }),
    ).toMatchObject({
      success: false,
      error: "received response body did not match the expected body",
      text: "X",
    });
  });

  test("without expectCode any status succeeds; expectCode is an exact list", async () => {
    expect((await run({ method: "GET", url: `${base}/404` })).success).toBe(true);
    expect((await run({ method: "GET", url: `${base}/404`, expectCode: "200, 404" })).success).toBe(
      true,
    );
    expect((await run({ method: "GET", url: `${base}/200`, expectCode: "1200" })).success).toBe(
      false,
    );
  });

  test("headers are sent, the value being everything after the first colon", async () => {
    const r = await run({
      method: "put",
      url: `${base}/headers`,
      headers: JSON.stringify(["X-Token: Basic a:b", "Content-Type: text/plain"]),
      body: "z",
    });
    expect(r.text).toBe("PUT Basic a:b text/plain");
  });

  test("redirects are followed like Go's client: 303 becomes GET, 307 repeats the POST", async () => {
    expect(await run({ method: "GET", url: `${base}/moved` })).toMatchObject({
      success: true,
      exitCode: 200,
      text: "hello",
    });
    expect(await run({ method: "POST", url: `${base}/see-other`, body: "dropped" })).toMatchObject({
      success: true,
      text: "",
    });
    expect(await run({ method: "POST", url: `${base}/temp`, body: "kept" })).toMatchObject({
      success: true,
      text: "kept",
    });
    expect(await run({ method: "GET", url: `${base}/loop` })).toMatchObject({
      success: false,
      exitCode: 302,
      error: "http: stopped after 10 redirects",
    });
  });

  test("debug prefixes the output with the config", async () => {
    const r = await run({ method: "GET", url: `${base}/hello`, debug: "true" });
    expect(r.text).toStartWith("Config: {");
    expect(r.text).toEndWith("}\nhello");
  });

  test("the body is capped at outputBytesMax and counted in full", async () => {
    const r = await run({ method: "GET", url: `${base}/big` }, { outputBytesMax: 1000 });
    expect(r).toMatchObject({ success: true, truncated: true, outputBytes: 100_000 });
    expect(r.text.length).toBe(1000);
  });

  test("a request slower than timeout seconds fails", async () => {
    const r = await run({ method: "GET", url: `${base}/hang`, timeout: "1" });
    expect(r).toMatchObject({ success: false, error: "http: request timed out after 1s" });
    expect(r.text).toBe("partial ");
  });

  test("aborting ends the request and fails the run", async () => {
    const ac = new AbortController();
    let text = "";
    const r = await httpExec.run({
      executionId: "e2",
      jobName: "job",
      executor: "http",
      config: { method: "GET", url: `${base}/hang` },
      signal: ac.signal,
      outputBytesMax: 1000,
      onOutput: (c) => {
        text += new TextDecoder().decode(c);
        ac.abort();
      },
    });
    expect(r).toMatchObject({ success: false, error: "http: execution aborted" });
    expect(text).toBe("partial ");
  });

  test("a refused connection fails with the reason", async () => {
    const r = await run({ method: "GET", url: "http://127.0.0.1:1/x" });
    expect(r.success).toBe(false);
    expect(r.error).toContain("http: GET http://127.0.0.1:1/x failed:");
  });

  test.skipIf(!haveOpenssl)(
    "TLS: a self-signed server fails unless trusted or unverified",
    async () => {
      const strict = await run({ method: "GET", url: `${tlsBase}/hello` });
      expect(strict.success).toBe(false);
      expect(strict.error).toContain("failed");
      expect(await run({ method: "GET", url: `${tlsBase}/hello`, tlsNoVerifyPeer: "true" }))
        .toMatchObject({
          success: true,
          text: "hello",
        });
      expect(
        await run({
          method: "GET",
          url: `${tlsBase}/hello`,
          tlsRootCAsFile: join(dir, "cert.pem"),
        }),
      ).toMatchObject({ success: true, text: "hello" });
    },
  );
});

describe("http config validation", () => {
  test("names the bad key and value", () => {
    const ok = {
      method: "GET",
      url: "http://example.com/",
      headers: '["A: b"]',
      timeout: "5",
      expectCode: "200,201",
    };
    expect(httpExec.validate(ok)).toBeUndefined();
    expect(httpExec.validate({ url: "http://x/" })).toBe("http: method is empty");
    expect(httpExec.validate({ method: "GET" })).toBe("http: url is empty");
    expect(httpExec.validate({ method: "GET", url: "ftp://x/" })).toContain(
      "must be http:// or https://",
    );
    expect(httpExec.validate({ method: "GET", url: "not a url" })).toContain(
      'url "not a url" is not a valid URL',
    );
    expect(httpExec.validate({ method: "GET", url: "http://x/", headers: "A: b" })).toContain(
      "is not a JSON array",
    );
    expect(httpExec.validate({ method: "GET", url: "http://x/", headers: '["nocolon"]' }))
      .toContain(
        'header "nocolon" has no "Key: Value" form',
      );
    expect(httpExec.validate({ method: "GET", url: "http://x/", timeout: "1.5" })).toContain(
      'timeout "1.5" is not a positive whole number of seconds',
    );
    expect(httpExec.validate({ method: "GET", url: "http://x/", expectCode: "ok" })).toContain(
      "expectCode",
    );
    expect(httpExec.validate({ method: "GET", url: "http://x/", expectBody: "(" })).toContain(
      'expectBody "(" is not a regular expression',
    );
    expect(
      httpExec.validate({ method: "GET", url: "http://x/", tlsRootCAsFile: join(dir, "none.pem") }),
    )
      .toContain("tlsRootCAsFile");
    expect(httpExec.validate({ method: "GET", url: "http://x/", tlsNoVerifyPeer: "maybe" }))
      .toContain(
        "tlsNoVerifyPeer",
      );
    expect(
      httpExec.validate({ method: "GET", url: "http://x/", tlsCertificateFile: "/etc/hostname" }),
    )
      .toContain("must be given together");
    expect(httpExec.validate({ method: "GET", url: "http://x/", expectcode: "200" })).toContain(
      'unknown key "expectcode"',
    );
    expect(existsSync(dir)).toBe(true);
  });
});
