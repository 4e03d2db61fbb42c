/**
 * The redis executor (Tock's own; Dkron has none) on ioredis: one command per run on a fresh
 * connection, the reply as output in redis-cli's --raw form. An error reply fails the run.
 * Config: `url` (redis:// or rediss://, credentials and db in it), `command` (one line split
 * like a shell line, so `SET k "a b"` sets "a b"), `timeout` (seconds, default 30).
 */
import { Redis } from "ioredis";
import { splitShellWords } from "./_parse.ts";
import {
  boundedRun,
  brokerExecutor,
  checkKeys,
  errorText,
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

const known = ["url", "command", "timeout"] as const;

interface RedisPlan {
  url: string;
  argv: [string, ...string[]];
  timeoutS: number;
}

function plan(config: Record<string, string>, strict: boolean): RedisPlan {
  if (strict) checkKeys(config, known, "redis");
  const url = required(config, "url", "redis: url is empty");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`redis: url "${url}" is not a valid URL`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new Error(`redis: url "${url}" must start with redis:// or rediss://`);
  }
  const command = required(config, "command", "redis: command is empty");
  let argv: string[];
  try {
    argv = splitShellWords(command);
  } catch (e) {
    throw new Error(`redis: command ${JSON.stringify(command)}: ${(e as Error).message}`);
  }
  if (argv.length === 0) throw new Error("redis: command is empty");
  return { url, argv: argv as [string, ...string[]], timeoutS: timeoutSeconds(config, "redis") };
}

/** A reply as redis-cli --raw prints it: one line per element, nil as an empty line. */
export function formatReply(reply: unknown): string {
  if (reply === null || reply === undefined) return "\n";
  if (Array.isArray(reply)) return reply.map(formatReply).join("");
  return `${String(reply)}\n`;
}

async function run(
  req: ExecutionRequest,
  sink: OutputSink,
  p: RedisPlan,
): Promise<ExecutionResult> {
  const timeoutMs = p.timeoutS * 1000;
  // One attempt, no reconnects and no offline queue: a run is one command, and a broker that is
  // down should fail it now with the reason rather than be retried behind the job's back.
  const client = new Redis(p.url, {
    lazyConnect: true,
    enableReadyCheck: false, // one command: a loading server answers it with LOADING, reported
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    reconnectOnError: () => false,
  });
  let lastError = "";
  client.on("error", (e: Error) => (lastError = e.message)); // an unhandled 'error' would crash
  return await boundedRun(sink, req.signal, {
    what: "redis",
    timeoutMs,
    work: async () => {
      try {
        await client.connect();
      } catch (e) {
        throw new Error(
          `redis: cannot connect to ${redacted(p.url)}: ${lastError || errorText(e)}`,
        );
      }
      const [name, ...args] = p.argv;
      try {
        return await client.call(name, ...args);
      } catch (e) {
        throw new Error(`redis: ${p.argv[0]} failed: ${errorText(e)}`);
      }
    },
    done: (reply) => {
      sink.write(text(formatReply(reply)));
      return ok(sink);
    },
    close: () => client.disconnect(),
    describe: errorText,
  });
}

/** The URL with its password replaced, for messages that end up in stored output. */
export function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "xxxxx";
    return u.toString();
  } catch {
    return "(invalid url)";
  }
}

export const redisExecutor: Executor = brokerExecutor("redis", plan, run);
