/**
 * The result shapes every executor returns (ok, failed), and what the broker executors (grpc,
 * nats, rabbitmq, kafka, redis) share: the `timeout` key and their other config checks, error
 * wording, the executor skeleton (plan, validate, run), and one way to bound a client call by
 * the run's abort and a deadline, so a broker that is down or silent ends the run with a reason
 * instead of hanging it.
 */
import { limits } from "../lib/mod.ts";
import { parseGoBool } from "./_parse.ts";
import {
  type ExecutionRequest,
  type ExecutionResult,
  type Executor,
  OutputSink,
} from "./_types.ts";

export function ok(sink: OutputSink, exitCode: number | null = null): ExecutionResult {
  return {
    success: true,
    exitCode,
    error: "",
    outputBytes: sink.totalBytes,
    truncated: sink.truncated,
    tail: sink.tail(),
  };
}

export function failed(
  sink: OutputSink,
  error: string,
  exitCode: number | null = null,
): ExecutionResult {
  return {
    success: false,
    exitCode,
    error,
    outputBytes: sink.totalBytes,
    truncated: sink.truncated,
    tail: sink.tail(),
  };
}

/**
 * Dkron's `timeout` in whole seconds ("" = the default); throws naming a bad value, in the
 * executor's own words when it gives `bad` (grpc keeps Dkron's "Invalid timeout").
 */
export function timeoutSeconds(
  config: Record<string, string>,
  prefix: string,
  bad: (text: string) => string = (text) =>
    `${prefix}: timeout "${text}" is not a whole number of seconds from 1 to ${limits.brokerTimeoutSecondsMax}`,
): number {
  const text = config.timeout ?? "";
  if (text === "") return limits.brokerTimeoutSecondsDefault;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > limits.brokerTimeoutSecondsMax) {
    throw new Error(bad(text));
  }
  return Number(text);
}

/** Refuses keys the executor does not know (at job create), naming the known ones. */
export function checkKeys(
  config: Record<string, string>,
  known: readonly string[],
  prefix: string,
): void {
  for (const key of Object.keys(config)) {
    if (!known.includes(key)) {
      throw new Error(`${prefix}: unknown key "${key}" (known: ${known.join(", ")})`);
    }
  }
}

export function required(config: Record<string, string>, key: string, message: string): string {
  const v = config[key] ?? "";
  if (v.trim() === "") throw new Error(message);
  return v;
}

/**
 * A boolean key as Go's ParseBool reads it ("" = false); anything it refuses is refused, naming
 * the key and value after `prefix` ("kafka:", "RabbitMQ").
 */
export function goBool(config: Record<string, string>, key: string, prefix: string): boolean {
  const v = config[key] ?? "";
  if (v === "") return false;
  const b = parseGoBool(v);
  if (b === undefined) throw new Error(`${prefix} ${key} "${v}" is not true or false`);
  return b;
}

/** Refuses a message over brokerMessageBytesMax, counted in UTF-8 bytes (as sent), not in
 * UTF-16 units: a string of multi-byte characters is up to 3x longer on the wire. */
export function checkMessageSize(message: string | Uint8Array, prefix: string): void {
  const size = typeof message === "string" ? Buffer.byteLength(message, "utf8") : message.length;
  if (size > limits.brokerMessageBytesMax) {
    throw new Error(`${prefix} message is longer than ${limits.brokerMessageBytesMax} bytes`);
  }
}

/** Raised inside bounded() when the deadline passes or the run is aborted. */
export class Stopped extends Error {}

/**
 * Runs `work` until it settles, the run is aborted, or `timeoutMs` passes; on either of the
 * last two the work's signal is aborted, `cleanup` runs (closing the client so nothing is left
 * connecting) and a Stopped error with a message naming what happened is thrown.
 */
export async function bounded<T>(
  signal: AbortSignal,
  timeoutMs: number,
  what: string,
  work: (signal: AbortSignal) => Promise<T>,
  cleanup: () => void,
): Promise<T> {
  if (signal.aborted) throw new Stopped(`${what}: execution aborted before start`);
  const inner = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    const end = (message: string) => {
      inner.abort();
      try {
        cleanup();
      } catch { /* closing a broken client may throw; the run already failed */ }
      reject(new Stopped(message));
    };
    timer = setTimeout(() => end(`${what}: timed out after ${timeoutMs / 1000}s`), timeoutMs);
    onAbort = () => end(`${what}: execution aborted`);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  const running = work(inner.signal);
  running.catch(() => {}); // a rejection after the deadline has nobody waiting for it
  try {
    return await Promise.race([running, stop]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}

/**
 * A broker executor from its config planner and its run. `validate` plans strictly (unknown
 * keys refused), then runs `check` for what only job create affords (grpc reads its descriptor
 * set), and returns the thrown message; a run whose config does not plan fails with it.
 */
export function brokerExecutor<P>(
  name: string,
  plan: (config: Record<string, string>, strict: boolean) => P,
  run: (req: ExecutionRequest, sink: OutputSink, p: P) => Promise<ExecutionResult>,
  check: (p: P) => void = () => {},
): Executor {
  return {
    name,
    validate(config) {
      try {
        check(plan(config, true));
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
    async run(req) {
      const sink = new OutputSink(req);
      let p: P;
      try {
        p = plan(req.config, false);
      } catch (e) {
        return failed(sink, (e as Error).message);
      }
      return await run(req, sink, p);
    },
  };
}

/** One client call of a run, for boundedRun(). */
export interface BoundedCall<T> {
  /** Names the executor in the deadline and abort messages. */
  what: string;
  timeoutMs: number;
  work: (signal: AbortSignal) => Promise<T>;
  /** The result from work's value; runs only when work won (so no output after a timeout). */
  done: (value: T) => ExecutionResult;
  /**
   * Closes the client: on the deadline or abort, and again however the run ends. Not to be
   * awaited: closing waits on a broken connection, and the run has its answer already.
   */
  close: () => void;
  /** The error text of a failure other than the deadline or abort. */
  describe: (e: unknown) => string;
}

/** Runs `call.work` under bounded() as a run's result; it never rejects for a failed call. */
export async function boundedRun<T>(
  sink: OutputSink,
  signal: AbortSignal,
  call: BoundedCall<T>,
): Promise<ExecutionResult> {
  try {
    return call.done(await bounded(signal, call.timeoutMs, call.what, call.work, call.close));
  } catch (e) {
    return failed(sink, e instanceof Stopped ? e.message : call.describe(e));
  } finally {
    call.close();
  }
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A thrown value as a run's error text: an Error's message, anything else as a string. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * errorText plus the cause's message when the error wraps one it does not repeat: clients that
 * wrap causes (nats: "503" is no responders; kafkajs) would otherwise hide the reason.
 */
export function errorTextWithCause(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as { cause?: unknown }).cause;
  return cause instanceof Error && !e.message.includes(cause.message)
    ? `${e.message} (${cause.message})`
    : e.message;
}
