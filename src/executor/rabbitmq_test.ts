// Proves the rabbitmq executor against the real RabbitMQ on 127.0.0.1:5672 (guest/guest; .ci/run
// starts it): a confirmed publish a consumer receives with its properties, base64 bodies, an
// unroutable message, wrong credentials, a broker that is down, one that never answers.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as net from "node:net";
import * as amqp from "amqplib";
import { rabbitmqExecutor } from "./_rabbitmq.ts";
import { ownConnectionsTo, runExecutor } from "../../test/support/executors.ts";
import { until } from "../../test/support/proc.ts";

const url = "amqp://guest:guest@127.0.0.1:5672";
const queue = `tock-test-${process.pid}-${Date.now()}`;
let conn: amqp.ChannelModel;
let ch: amqp.Channel;
let silent: net.Server;
const silentSockets: net.Socket[] = [];

beforeAll(async () => {
  conn = await amqp.connect(url);
  ch = await conn.createChannel();
  silent = net.createServer((s) => silentSockets.push(s)); // accepts, never speaks AMQP
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
});

afterAll(async () => {
  await ch.deleteQueue(queue).catch(() => {});
  await conn.close().catch(() => {});
  for (const s of silentSockets) s.destroy();
  silent.close();
});

async function getOne(): Promise<amqp.GetMessage | false> {
  return await ch.get(queue, { noAck: true });
}

describe("rabbitmq executor", () => {
  test("publishes with confirms into a declared queue, properties kept", async () => {
    const r = await runExecutor(rabbitmqExecutor, {
      url,
      "queue.name": queue,
      "queue.create": "true",
      "queue.auto_delete": "false",
      "message.body": "hello rabbit",
      "message.content_type": "application/json",
      "message.delivery_mode": "2",
      "message.messageId": "m-1",
    });
    expect(r.error).toBe("");
    expect(r.success).toBe(true);
    const m = await getOne();
    expect(m).not.toBe(false);
    const got = m as amqp.GetMessage;
    expect(got.content.toString()).toBe("hello rabbit");
    expect(got.properties.contentType).toBe("application/json");
    expect(got.properties.deliveryMode).toBe(2);
    expect(got.properties.messageId).toBe("m-1");
  });

  test("a base64 body is published decoded", async () => {
    const r = await runExecutor(rabbitmqExecutor, {
      url,
      "queue.name": queue,
      "message.base64Body": Buffer.from("bytes\u0000here").toString("base64"),
    });
    expect(r.error).toBe("");
    const m = (await getOne()) as amqp.GetMessage;
    expect(m.content.toString()).toBe("bytes\u0000here");
  });

  test("a message no queue can take fails the run instead of vanishing", async () => {
    const r = await runExecutor(rabbitmqExecutor, {
      url,
      "queue.name": `${queue}-missing`,
      "message.body": "lost?",
    });
    expect(r.success).toBe(false);
    expect(r.error).toContain("rabbitmq: the broker could not route the message (NO_ROUTE");
  });

  test("wrong credentials fail the run with the broker's refusal, password hidden", async () => {
    const r = await runExecutor(rabbitmqExecutor, {
      url: "amqp://guest:wrongpass@127.0.0.1:5672",
      "queue.name": queue,
    });
    expect(r.success).toBe(false);
    expect(r.error).toContain("rabbitmq: cannot connect to amqp://guest:xxxxx@127.0.0.1:5672");
    expect(r.error).toContain("ACCESS-REFUSED");
    expect(r.error).not.toContain("wrongpass");
  });

  test("a broker that is down fails the run naming the connection error", async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const r = await runExecutor(rabbitmqExecutor, {
      url: `amqp://127.0.0.1:${port}`,
      "queue.name": queue,
    });
    expect(r.success).toBe(false);
    expect(r.error).toContain("ECONNREFUSED");
  });

  test("a broker that accepts but never answers ends at the timeout", async () => {
    const port = (silent.address() as net.AddressInfo).port;
    const r = await runExecutor(rabbitmqExecutor, {
      url: `amqp://127.0.0.1:${port}`,
      "queue.name": queue,
      timeout: "1",
    });
    expect(r.success).toBe(false);
    expect(r.error).toMatch(/timed out|timeout/i);
  });

  test("aborting the run ends a connection attempt that gets no answer", async () => {
    const port = (silent.address() as net.AddressInfo).port;
    const abort = new AbortController();
    const running = runExecutor(rabbitmqExecutor, {
      url: `amqp://127.0.0.1:${port}`,
      "queue.name": queue,
    }, { signal: abort.signal });
    setTimeout(() => abort.abort(), 100);
    const r = await running;
    expect(r.success).toBe(false);
    expect(r.error).toBe("rabbitmq: execution aborted");
  });

  test("no connection of this process is left open after the runs", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await runExecutor(rabbitmqExecutor, {
        url,
        "queue.name": queue,
        "message.body": "m",
      });
      expect(r.error).toBe("");
    }
    // The test holds one connection of its own (its subscriber or consumer).
    await until(
      "only the test's own connection to port 5672",
      () => (ownConnectionsTo(5672) === 1 ? true : undefined),
      10_000,
    );
  }, 20_000);

  test("validate gives Dkron's messages", () => {
    expect(rabbitmqExecutor.validate({})).toBe("RabbitMQ config is empty");
    expect(rabbitmqExecutor.validate({ "queue.name": "q" })).toBe("RabbitMQ url is empty");
    expect(rabbitmqExecutor.validate({ url })).toBe("RabbitMQ queue name is empty");
    expect(
      rabbitmqExecutor.validate({
        url,
        "queue.name": "q",
        "message.body": "a",
        "message.base64Body": "YQ==",
      }),
    ).toBe("RabbitMQ message.body and message.base64Body are both set");
    expect(rabbitmqExecutor.validate({ url, "queue.name": "q", "message.delivery_mode": "300" }))
      .toContain("delivery_mode");
    expect(rabbitmqExecutor.validate({ url, "queue.name": "q", "queue.durable": "yes" }))
      .toContain('queue.durable "yes"');
    expect(rabbitmqExecutor.validate({ url, "queue.name": "q", routing: "x" })).toContain(
      'unknown key "routing"',
    );
    expect(rabbitmqExecutor.validate({ url, "queue.name": "q" })).toBeUndefined();
  });
});
