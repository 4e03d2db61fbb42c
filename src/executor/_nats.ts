/**
 * The nats executor (Dkron's dkron-executor-nats) on the official client @nats-io/transport-node.
 * Dkron's keys: `url` (one server or a comma list), `subject`, `message`, `userName`,
 * `password`, `debug`. Tock's: `request` ("true": request/reply, the reply is the output) and
 * `timeout` (seconds, default 30, covers connect + publish + flush or the reply).
 *
 * Unlike Dkron, a publish is confirmed: the client flushes (a PING/PONG round trip after the
 * message) so a connection that broke under the message fails the run instead of passing.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
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

const known = ["url", "subject", "message", "userName", "password", "debug", "request", "timeout"];

interface NatsPlan {
  servers: string[];
  subject: string;
  message: string;
  user: string | undefined;
  pass: string | undefined;
  request: boolean;
  timeoutS: number;
}

function plan(config: Record<string, string>, strict: boolean): NatsPlan {
  if (strict) checkKeys(config, known, "nats");
  const url = required(config, "url", "nats: url is empty");
  const subject = required(config, "subject", "nats: subject is empty");
  if (/\s/.test(subject)) throw new Error(`nats: subject "${subject}" contains whitespace`);
  const message = config.message ?? "";
  checkMessageSize(message, "nats:");
  const request = goBool(config, "request", "nats:");
  return {
    servers: url.split(",").map((s) => s.trim()).filter((s) => s !== ""),
    subject,
    message,
    user: (config.userName ?? "") === "" ? undefined : config.userName,
    pass: (config.password ?? "") === "" ? undefined : config.password,
    request,
    timeoutS: timeoutSeconds(config, "nats"),
  };
}

async function run(req: ExecutionRequest, sink: OutputSink, p: NatsPlan): Promise<ExecutionResult> {
  if ((req.config.debug ?? "") !== "") {
    sink.note(`nats: servers ${p.servers.join(",")} subject ${p.subject}\n`);
  }
  const timeoutMs = p.timeoutS * 1000;
  let nc: NatsConnection | undefined;
  return await boundedRun(sink, req.signal, {
    what: "nats",
    timeoutMs,
    work: async (signal) => {
      try {
        nc = await connect({
          servers: p.servers,
          ...(p.user !== undefined ? { user: p.user } : {}),
          ...(p.pass !== undefined ? { pass: p.pass } : {}),
          timeout: timeoutMs,
          reconnect: false, // one run, one connection: a drop fails it with the reason
          name: `tock ${req.jobName}`,
        });
      } catch (e) {
        throw new Error(
          `nats: error connecting to NATS at ${p.servers.join(",")}: ${errorTextWithCause(e)}`,
        );
      }
      if (signal.aborted) return undefined;
      const data = text(p.message);
      if (p.request) {
        try {
          // Returned, not written: done() writes it only if the run did not stop first.
          return (await nc.request(p.subject, data, { timeout: timeoutMs })).data;
        } catch (e) {
          throw new Error(`nats: request on "${p.subject}" failed: ${errorTextWithCause(e)}`);
        }
      } else {
        nc.publish(p.subject, data);
        try {
          await nc.flush();
        } catch (e) {
          throw new Error(
            `nats: publish on "${p.subject}" was not confirmed: ${errorTextWithCause(e)}`,
          );
        }
        return text("Result: Message successfully sent\n");
      }
    },
    done: (out: Uint8Array | undefined) => {
      if (out !== undefined) sink.write(out);
      return ok(sink);
    },
    close: () => void nc?.close().catch(() => {}),
    describe: errorTextWithCause,
  });
}

export const natsExecutor: Executor = brokerExecutor("nats", plan, run);
