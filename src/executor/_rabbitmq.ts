/**
 * The rabbitmq executor (Dkron's dkron-executor-rabbitmq) on amqplib: AMQP 0-9-1 publish on a
 * confirm channel. The run succeeds only when the broker acknowledged the message.
 *
 * Dkron's keys: `url`, `queue.name` (also the routing key), `exchange`, `queue.create`,
 * `queue.durable`, `queue.auto_delete`, `queue.exclusive`, `message.content_type`,
 * `message.delivery_mode`, `message.messageId`, `message.body`, `message.base64Body`.
 * Tock's: `timeout` (seconds, default 30).
 *
 * Stricter than Dkron: the message is published `mandatory`, so one the broker cannot route to
 * any queue (a typo in queue.name) fails the run instead of vanishing; Dkron's publish had no
 * confirms, so a lost message passed.
 */
import { Buffer } from "node:buffer";
import * as amqp from "amqplib";
import {
  boundedRun,
  brokerExecutor,
  checkKeys,
  checkMessageSize,
  errorText,
  goBool,
  ok,
  timeoutSeconds,
} from "./_bounded.ts";
import {
  type ExecutionRequest,
  type ExecutionResult,
  type Executor,
  type OutputSink,
} from "./_types.ts";

const known = [
  "url",
  "queue.name",
  "exchange",
  "queue.create",
  "queue.durable",
  "queue.auto_delete",
  "queue.exclusive",
  "message.content_type",
  "message.delivery_mode",
  "message.messageId",
  "message.body",
  "message.base64Body",
  "timeout",
];

interface RabbitPlan {
  url: string;
  queue: string;
  exchange: string;
  create: boolean;
  durable: boolean;
  autoDelete: boolean;
  exclusive: boolean;
  contentType: string;
  deliveryMode: number;
  messageId: string | undefined;
  body: Buffer;
  timeoutS: number;
}

function plan(config: Record<string, string>, strict: boolean): RabbitPlan {
  if (Object.keys(config).length === 0) throw new Error("RabbitMQ config is empty");
  if (strict) checkKeys(config, known, "rabbitmq");
  const url = config.url ?? "";
  if (url === "") throw new Error("RabbitMQ url is empty");
  if (!/^amqps?:\/\//.test(url)) {
    throw new Error(`RabbitMQ url must start with amqp:// or amqps://`);
  }
  const queue = config["queue.name"] ?? "";
  if (queue === "") throw new Error("RabbitMQ queue name is empty");
  const hasBody = "message.body" in config;
  const hasB64 = "message.base64Body" in config;
  if (hasBody && hasB64) {
    throw new Error("RabbitMQ message.body and message.base64Body are both set");
  }
  let body = Buffer.from(config["message.body"] ?? "", "utf8");
  if (hasB64) {
    const s = config["message.base64Body"] as string;
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) {
      throw new Error("RabbitMQ message.base64Body is not valid base64");
    }
    body = Buffer.from(s, "base64");
  }
  checkMessageSize(body, "RabbitMQ");
  const modeText = config["message.delivery_mode"] ?? "";
  const deliveryMode = modeText === "" ? 0 : Number(modeText);
  if (!/^\d+$/.test(modeText || "0") || deliveryMode > 255) {
    throw new Error(`RabbitMQ message.delivery_mode "${modeText}" is not a number from 0 to 255`);
  }
  return {
    url,
    queue,
    exchange: config.exchange ?? "",
    // Dkron: declared when the key is present and not "false".
    create: "queue.create" in config && config["queue.create"] !== "false",
    durable: goBool(config, "queue.durable", "RabbitMQ"),
    autoDelete: goBool(config, "queue.auto_delete", "RabbitMQ"),
    exclusive: goBool(config, "queue.exclusive", "RabbitMQ"),
    contentType: config["message.content_type"] || "text/plain",
    deliveryMode,
    messageId: config["message.messageId"] || undefined,
    body,
    timeoutS: timeoutSeconds(config, "rabbitmq"),
  };
}

async function run(
  req: ExecutionRequest,
  sink: OutputSink,
  p: RabbitPlan,
): Promise<ExecutionResult> {
  const timeoutMs = p.timeoutS * 1000;
  let conn: amqp.ChannelModel | undefined;
  // Connection and channel errors arrive as events; an 'error' with no listener would throw
  // out of the event loop and take the node down, so both are caught and remembered here.
  let asyncError = "";
  const remember = (e: Error) => (asyncError ||= e.message);
  return await boundedRun(sink, req.signal, {
    what: "rabbitmq",
    timeoutMs,
    work: async () => {
      try {
        conn = await amqp.connect(p.url, { timeout: timeoutMs });
      } catch (e) {
        throw new Error(`rabbitmq: cannot connect to ${redacted(p.url)}: ${errorText(e)}`);
      }
      conn.on("error", remember);
      const ch = await conn.createConfirmChannel();
      ch.on("error", remember);
      let returned: string | undefined;
      ch.on("return", (m: amqp.Message & { fields: { replyText?: string } }) => {
        returned = `${
          m.fields.replyText ?? "returned"
        }: exchange "${m.fields.exchange}" routing key "${m.fields.routingKey}"`;
      });
      try {
        if (p.create) {
          await ch.assertQueue(p.queue, {
            durable: p.durable,
            autoDelete: p.autoDelete,
            exclusive: p.exclusive,
          });
        }
        const confirmed = new Promise<void>((resolve, reject) => {
          const options: amqp.Options.Publish = { contentType: p.contentType, mandatory: true };
          if (p.deliveryMode !== 0) options.deliveryMode = p.deliveryMode;
          if (p.messageId !== undefined) options.messageId = p.messageId;
          ch.publish(
            p.exchange,
            p.queue,
            p.body,
            options,
            (err: unknown) => (err ? reject(err) : resolve()),
          );
        });
        await confirmed;
      } catch (e) {
        throw new Error(`rabbitmq: publish failed: ${asyncError || errorText(e)}`);
      }
      // A mandatory message that could not be routed comes back (basic.return) before its ack.
      if (returned !== undefined) {
        throw new Error(`rabbitmq: the broker could not route the message (${returned})`);
      }
    },
    done: () => ok(sink),
    close: () => void conn?.close().catch(() => {}),
    describe: errorText,
  });
}

function redacted(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:xxxxx@");
}

export const rabbitmqExecutor: Executor = brokerExecutor("rabbitmq", plan, run);
