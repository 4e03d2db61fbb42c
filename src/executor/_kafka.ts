/**
 * The kafka executor (Dkron's dkron-executor-kafka) on kafkajs: one message produced with
 * acks from all in-sync replicas (Dkron's sync producer), up to 5 retries inside the timeout.
 *
 * Why kafkajs: it is pure JavaScript with no dependencies and runs on Node 20 and Bun; the
 * maintained alternatives need Node 22 (@platformatic/kafka) or a native librdkafka build
 * fetched at install (@confluentinc/kafka-javascript), which this project's machines cannot do.
 *
 * Dkron's keys: `brokerAddress` (comma list), `topic`, `key`, `message`, `tlsEnable`,
 * `tlsInsecureSkipVerify`, `saslUsername`, `saslPassword`, `saslMechanism` (sha256 | sha512),
 * `debug`. Tock's: `timeout` (seconds, default 30).
 */
import { Kafka, logLevel, type Producer, type SASLOptions } from "kafkajs";
import {
  boundedRun,
  brokerExecutor,
  checkKeys,
  checkMessageSize,
  errorTextWithCause,
  goBool,
  ok,
  required,
  text,
  timeoutSeconds,
} from "./_bounded.ts";
import {
  type ExecutionRequest,
  type ExecutionResult,
  type Executor,
  type OutputSink,
} from "./_types.ts";

const known = [
  "brokerAddress",
  "topic",
  "key",
  "message",
  "tlsEnable",
  "tlsInsecureSkipVerify",
  "saslUsername",
  "saslPassword",
  "saslMechanism",
  "debug",
  "timeout",
];

interface KafkaPlan {
  brokers: string[];
  topic: string;
  key: string | undefined;
  message: string;
  tls: boolean;
  tlsInsecure: boolean;
  sasl: SASLOptions | undefined;
  debug: boolean;
  timeoutS: number;
}

function plan(config: Record<string, string>, strict: boolean): KafkaPlan {
  if (strict) checkKeys(config, known, "kafka");
  const brokers = required(config, "brokerAddress", "brokerAddress is empty")
    .split(",").map((b) => b.trim()).filter((b) => b !== "");
  for (const b of brokers) {
    if (!/^[^\s:/]+:\d{1,5}$/.test(b) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(b)) {
      throw new Error(`kafka: broker "${b}" is not host:port`);
    }
  }
  const topic = required(config, "topic", "topic is empty");
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic)) {
    throw new Error(`kafka: topic "${topic}" may only have letters, digits, ".", "_" and "-"`);
  }
  const message = config.message ?? "";
  checkMessageSize(message, "kafka:");
  let sasl: SASLOptions | undefined;
  const user = config.saslUsername ?? "";
  const pass = config.saslPassword ?? "";
  if (user !== "" || pass !== "") {
    const mech = config.saslMechanism ?? "";
    if (mech !== "sha256" && mech !== "sha512") {
      throw new Error("invalid SASL mechanism, must be 'sha256' or 'sha512'");
    }
    sasl = {
      mechanism: mech === "sha256" ? "scram-sha-256" : "scram-sha-512",
      username: user,
      password: pass,
    };
  }
  return {
    brokers,
    topic,
    key: (config.key ?? "") === "" ? undefined : config.key,
    message,
    // Dkron compares to "true"; anything else Go's ParseBool refuses is refused here.
    tls: goBool(config, "tlsEnable", "kafka:"),
    tlsInsecure: goBool(config, "tlsInsecureSkipVerify", "kafka:"),
    sasl,
    debug: (config.debug ?? "") !== "",
    timeoutS: timeoutSeconds(config, "kafka"),
  };
}

async function run(
  req: ExecutionRequest,
  sink: OutputSink,
  p: KafkaPlan,
): Promise<ExecutionResult> {
  const timeoutMs = p.timeoutS * 1000;
  const kafka = new Kafka({
    clientId: `tock-${req.jobName}`,
    brokers: p.brokers,
    ssl: p.tls ? { rejectUnauthorized: !p.tlsInsecure } : false,
    ...(p.sasl ? { sasl: p.sasl } : {}),
    connectionTimeout: Math.min(timeoutMs, 10_000),
    requestTimeout: timeoutMs,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
    // kafkajs logs to the console by default; a run's story goes to its output instead.
    logLevel: p.debug ? logLevel.INFO : logLevel.NOTHING,
    logCreator: () => ({ namespace, label, log }) => {
      sink.note(`kafka: ${label} ${namespace} ${log.message}\n`);
    },
  });
  let producer: Producer | undefined;
  return await boundedRun(sink, req.signal, {
    what: "kafka",
    timeoutMs,
    work: async () => {
      producer = kafka.producer({ allowAutoTopicCreation: true });
      try {
        await producer.connect();
      } catch (e) {
        throw new Error(
          `kafka: cannot connect to ${p.brokers.join(",")}: ${errorTextWithCause(e)}`,
        );
      }
      try {
        return await producer.send({
          topic: p.topic,
          acks: -1,
          timeout: timeoutMs,
          messages: [{ key: p.key ?? null, value: p.message }],
        });
      } catch (e) {
        throw new Error(`kafka: producing to "${p.topic}" failed: ${errorTextWithCause(e)}`);
      }
    },
    done: (sent) => {
      const at = sent[0];
      sink.write(text("Result: successfully produced the message on Kafka broker\n"));
      if (at) sink.write(text(`partition ${at.partition} offset ${at.baseOffset ?? "?"}\n`));
      return ok(sink);
    },
    // A disconnect waits for a connect in progress: awaited, it would hold an aborted or
    // timed-out run for the client's own timeout.
    close: () => void producer?.disconnect().catch(() => {}),
    describe: errorTextWithCause,
  });
}

export const kafkaExecutor: Executor = brokerExecutor("kafka", plan, run);
