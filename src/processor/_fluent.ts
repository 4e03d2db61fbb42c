/**
 * The fluent processor (Dkron's dkron-processor-fluent): sends the record
 * `{host, job_name, message, execution, success}` to Fluentd/Fluent Bit over the forward
 * protocol with @fluent-org/logger, waiting for the receiver's ack (at-least-once), so a run
 * whose record was not accepted says so in the log. Keys: `forward`; Tock's `host`, `port`,
 * `tag` — defaulting, as in Dkron, to the agent's FLUENTBIT_HOST, FLUENTBIT_PORT and
 * FLUENTBIT_TAG, then to 127.0.0.1, 24224 and "tock".
 */
import process from "node:process";
import { FluentClient, FluentSocketEvent } from "@fluent-org/logger";
import { limits } from "../lib/mod.ts";
import { checkKeys, forwards } from "./_forward.ts";
import type { Processor } from "./_types.ts";

function settings(config: Record<string, string>) {
  const host = config.host || process.env.FLUENTBIT_HOST || "127.0.0.1";
  const portText = config.port || process.env.FLUENTBIT_PORT || "24224";
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) {
    throw new Error(`processor fluent: port "${portText}" is not a TCP port`);
  }
  const tag = config.tag || process.env.FLUENTBIT_TAG || "tock";
  return { host, port, tag };
}

export const fluentProcessor: Processor = {
  name: "fluent",
  validate(config) {
    const bad = checkKeys(config, ["host", "port", "tag"], "fluent");
    if (bad) return bad;
    try {
      settings(config);
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  },
  async process(run) {
    const { host, port, tag } = settings(run.config);
    const client = new FluentClient(tag, {
      socket: { host, port, timeout: limits.processorTimeoutMs, disableReconnect: true },
      ack: { ackTimeout: limits.processorTimeoutMs },
      eventMode: "Message",
      // Connect explicitly, once: with autoconnect a receiver that is down leaves emit()
      // waiting on reconnects forever (and disableReconnect then never connects at all).
      disableAutoconnect: true,
    });
    // The socket emits 'error' for a broken connection; with no listener that would throw out of
    // the event loop and take the node down. The emit()/connect() promises carry the failure.
    client.socketOn(FluentSocketEvent.ERROR, () => {});
    const stop = () => void client.disconnect().catch(() => {});
    run.signal.addEventListener("abort", stop, { once: true });
    try {
      await client.connect();
      await client.emit({
        host: run.nodeName,
        job_name: run.jobName,
        execution: run.executionId,
        success: run.success,
        message: run.output,
      });
    } catch (e) {
      throw new Error(
        `processor fluent: sending to ${host}:${port} failed: ${(e as Error).message}`,
      );
    } finally {
      run.signal.removeEventListener("abort", stop);
      await client.disconnect().catch(() => {});
    }
    return forwards(run.config) ? run.output : "Output sent to Fluent";
  },
};
