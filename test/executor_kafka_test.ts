// Proves the kafka executor against a real Kafka-protocol broker: franz-go's kfake, built from
// test/fixtures/gobrokers and started here. A consumer (kafkajs) reads back what was produced.
// Also: a broker that is down, one that never answers. Not here: SASL, because kfake's
// SaslHandshake reply omits the mechanism list that kafkajs checks (real Kafka sends it).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as net from "node:net";
import { Kafka, logLevel } from "kafkajs";
import { executorRegistry } from "../src/executor/mod.ts";
import { ownConnectionsTo, runExecutor } from "./support/executors.ts";
import { until } from "./support/proc.ts";
import { type GoServer, startGoServer } from "./support/gobrokers.ts";

const kafkaExec = executorRegistry().get("kafka")!;
let broker: GoServer;
let silent: net.Server;
const sockets: net.Socket[] = [];

beforeAll(async () => {
  broker = await startGoServer("kfake");
  silent = net.createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
}, 600_000); // the first run on a machine builds the Go fixtures

afterAll(() => {
  broker?.stop();
  for (const s of sockets) s.destroy();
  silent?.close();
});

async function readAll(
  brokers: string,
  topic: string,
  count: number,
): Promise<Array<{ key: string; value: string }>> {
  const kafka = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `tock-test-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: Array<{ key: string; value: string }> = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`read ${got.length} of ${count}: ${JSON.stringify(got)}`)),
      30_000,
    );
    consumer.run({
      eachMessage: async ({ message }) => {
        got.push({ key: message.key?.toString() ?? "", value: message.value?.toString() ?? "" });
        if (got.length >= count) {
          clearTimeout(timer);
          resolve();
        }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  return got;
}

describe("kafka executor", () => {
  test("produces a message a consumer reads back", async () => {
    const r = await runExecutor(kafkaExec, {
      brokerAddress: broker.addr,
      topic: "tock-test",
      key: "k1",
      message: "hello kafka",
    });
    expect(r.error).toBe("");
    expect(r.success).toBe(true);
    expect(r.output).toContain("Result: successfully produced the message on Kafka broker\n");
    expect(await readAll(broker.addr, "tock-test", 1)).toEqual([{
      key: "k1",
      value: "hello kafka",
    }]);
  }, 60_000);

  test("a broker that is down fails the run naming the connection error", async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const r = await runExecutor(kafkaExec, {
      brokerAddress: `127.0.0.1:${port}`,
      topic: "t",
      timeout: "20",
    });
    expect(r.success).toBe(false);
    expect(r.error).toContain(`kafka: cannot connect to 127.0.0.1:${port}`);
    expect(r.error).toContain("ECONNREFUSED");
  }, 60_000);

  test("a broker that accepts but never answers ends at the timeout", async () => {
    const port = (silent.address() as net.AddressInfo).port;
    const r = await runExecutor(kafkaExec, {
      brokerAddress: `127.0.0.1:${port}`,
      topic: "t",
      timeout: "2",
    });
    expect(r.success).toBe(false);
    expect(r.error).toMatch(/timed out|timeout/i);
  }, 60_000);

  test("aborting the run ends it while the broker is silent", async () => {
    const port = (silent.address() as net.AddressInfo).port;
    const abort = new AbortController();
    const running = runExecutor(kafkaExec, { brokerAddress: `127.0.0.1:${port}`, topic: "t" }, {
      signal: abort.signal,
    });
    setTimeout(() => abort.abort(), 100);
    const r = await running;
    expect(r.success).toBe(false);
    expect(r.error).toBe("kafka: execution aborted");
    // Regression: the run used to wait for the producer's disconnect, which waited out the
    // client's 30 s request timeout; the test timeout below is far under that.
  }, 20_000);

  test("no connection of this process is left open after the runs", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await runExecutor(kafkaExec, { brokerAddress: broker.addr, topic: "tock-leak" });
      expect(r.error).toBe("");
    }
    const port = Number(broker.addr.split(":").at(-1));
    await until(
      `no established connection to ${broker.addr}`,
      () => (ownConnectionsTo(port) === 0 ? true : undefined),
      10_000,
    );
  }, 30_000);

  test("validate gives Dkron's messages", () => {
    expect(kafkaExec.validate({ topic: "t" })).toBe("brokerAddress is empty");
    expect(kafkaExec.validate({ brokerAddress: "h:1" })).toBe("topic is empty");
    expect(
      kafkaExec.validate({
        brokerAddress: "h:1",
        topic: "t",
        saslUsername: "u",
        saslMechanism: "md5",
      }),
    )
      .toBe("invalid SASL mechanism, must be 'sha256' or 'sha512'");
    expect(kafkaExec.validate({ brokerAddress: "nohost", topic: "t" })).toContain(
      'broker "nohost" is not host:port',
    );
    expect(kafkaExec.validate({ brokerAddress: "h:1", topic: "a b" })).toContain('topic "a b"');
    expect(kafkaExec.validate({ brokerAddress: "h:1,h:2", topic: "t" })).toBeUndefined();
  });
});
