// Proves the nats executor against the real NATS on 127.0.0.1:4222 (.ci/run starts it), and
// against a second nats-server started here with a user and password for wrong credentials:
// publish seen by a subscriber, request/reply, no responders, timeout, down server, abort.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ChildProcess, spawn } from "node:child_process";
import * as net from "node:net";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { natsExecutor } from "./_nats.ts";
import { kafkaExecutor } from "./_kafka.ts";
import { limits } from "../lib/mod.ts";
import { ownConnectionsTo, runExecutor } from "../../test/support/executors.ts";
import { until } from "../../test/support/proc.ts";

const url = "nats://127.0.0.1:4222";
const subject = `tock.test.${process.pid}.${Date.now()}`;
let nc: NatsConnection;
let authServer: ChildProcess | undefined;
let authUrl = "";

beforeAll(async () => {
  nc = await connect({ servers: url });
  // A server of our own that requires a user: the shared one has no auth configured.
  authServer = spawn("nats-server", [
    "-a",
    "127.0.0.1",
    "-p",
    "-1",
    "--user",
    "tock",
    "--pass",
    "right",
  ], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let seen = "";
  authUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`nats-server did not listen: ${seen}`)),
      20_000,
    );
    const onData = (d: Buffer) => {
      seen += d.toString();
      const m = /Listening for client connections on (\S+:\d+)/.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(`nats://${m[1]}`);
      }
    };
    authServer?.stdout?.on("data", onData);
    authServer?.stderr?.on("data", onData);
    authServer?.on("error", (e) => reject(e));
  });
}, 30_000);

afterAll(async () => {
  await nc?.close();
  if (authServer?.pid !== undefined) process.kill(authServer.pid, "SIGKILL");
});

describe("nats executor", () => {
  test("publishes the message where a subscriber receives it", async () => {
    const sub = nc.subscribe(`${subject}.pub`, { max: 1 });
    await nc.flush();
    const r = await runExecutor(natsExecutor, {
      url,
      subject: `${subject}.pub`,
      message: "hello nats",
    });
    expect(r.error).toBe("");
    expect(r.success).toBe(true);
    expect(r.output).toBe("Result: Message successfully sent\n");
    for await (const m of sub) {
      expect(m.string()).toBe("hello nats");
    }
  });

  test("request/reply puts the reply in the output", async () => {
    const sub = nc.subscribe(`${subject}.req`);
    (async () => {
      for await (const m of sub) m.respond(new TextEncoder().encode(`pong:${m.string()}`));
    })();
    await nc.flush();
    const r = await runExecutor(natsExecutor, {
      url,
      subject: `${subject}.req`,
      message: "ping",
      request: "true",
    });
    sub.unsubscribe();
    expect(r.error).toBe("");
    expect(r.output).toBe("pong:ping");
  });

  test("a request nobody answers fails with no responders", async () => {
    const r = await runExecutor(natsExecutor, {
      url,
      subject: `${subject}.nobody`,
      request: "true",
    });
    expect(r.success).toBe(false);
    expect(r.error).toContain(`nats: request on "${subject}.nobody" failed`);
    expect(r.error.toLowerCase()).toContain("no responders");
  });

  test("a request whose responder is silent ends at the timeout", async () => {
    const sub = nc.subscribe(`${subject}.silent`); // receives, never answers
    await nc.flush();
    const r = await runExecutor(natsExecutor, {
      url,
      subject: `${subject}.silent`,
      request: "true",
      timeout: "1",
    });
    sub.unsubscribe();
    expect(r.success).toBe(false);
    expect(r.error).toMatch(/timed out|timeout/i);
  });

  test("a server that is down fails the run naming the connection error", async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const r = await runExecutor(natsExecutor, { url: `nats://127.0.0.1:${port}`, subject });
    expect(r.success).toBe(false);
    expect(r.error).toContain(`nats: error connecting to NATS at nats://127.0.0.1:${port}`);
  });

  test("wrong credentials fail the run with the server's refusal", async () => {
    const bad = await runExecutor(natsExecutor, {
      url: authUrl,
      subject,
      userName: "tock",
      password: "wrong",
    });
    expect(bad.success).toBe(false);
    expect(bad.error.toLowerCase()).toContain("authorization");
    const good = await runExecutor(natsExecutor, {
      url: authUrl,
      subject,
      userName: "tock",
      password: "right",
    });
    expect(good.error).toBe("");
  });

  test("aborting the run ends a pending request", async () => {
    const sub = nc.subscribe(`${subject}.abort`);
    await nc.flush();
    const abort = new AbortController();
    const running = runExecutor(natsExecutor, {
      url,
      subject: `${subject}.abort`,
      request: "true",
    }, { signal: abort.signal });
    setTimeout(() => abort.abort(), 100);
    const r = await running;
    sub.unsubscribe();
    expect(r.success).toBe(false);
    expect(r.error).toBe("nats: execution aborted");
  });

  test("no connection of this process is left open after the runs", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await runExecutor(natsExecutor, { url, subject, message: "m" });
      expect(r.error).toBe("");
    }
    // The test holds one connection of its own (its subscriber or consumer).
    await until(
      "only the test's own connection to port 4222",
      () => (ownConnectionsTo(4222) === 1 ? true : undefined),
      10_000,
    );
  }, 20_000);

  test("validate names the missing or bad key", () => {
    expect(natsExecutor.validate({ subject })).toBe("nats: url is empty");
    expect(natsExecutor.validate({ url })).toBe("nats: subject is empty");
    expect(natsExecutor.validate({ url, subject: "a b" })).toContain("contains whitespace");
    expect(natsExecutor.validate({ url, subject, request: "maybe" })).toContain(
      'request "maybe" is not true or false',
    );
    expect(natsExecutor.validate({ url, subject, queue: "x" })).toContain('unknown key "queue"');
    expect(natsExecutor.validate({ url, subject, message: "m" })).toBeUndefined();
  });

  test("the message limit counts UTF-8 bytes, not characters", () => {
    // Half the limit plus one in 2-byte characters: under the limit in UTF-16 units, over in bytes.
    const half = "é".repeat(limits.brokerMessageBytesMax / 2 + 1);
    expect(natsExecutor.validate({ url, subject, message: half })).toContain("longer than");
    expect(kafkaExecutor.validate({ brokerAddress: "127.0.0.1:1", topic: "t", message: half }))
      .toContain("longer than");
    const fits = "é".repeat(limits.brokerMessageBytesMax / 2);
    expect(natsExecutor.validate({ url, subject, message: fits })).toBeUndefined();
  });
});
