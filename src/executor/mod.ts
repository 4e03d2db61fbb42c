/**
 * executor: runs one execution on this node behind one interface (shell, http, noop, grpc,
 * nats, rabbitmq, kafka, redis, and plugins from --plugin-dir), and keeps execution output in the local output.db.
 */
import { grpcExecutor } from "./_grpc.ts";
import { httpExecutor } from "./_http.ts";
import { kafkaExecutor } from "./_kafka.ts";
import { natsExecutor } from "./_nats.ts";
import { noopExecutor } from "./_noop.ts";
import { rabbitmqExecutor } from "./_rabbitmq.ts";
import { redisExecutor } from "./_redis.ts";
import { shellExecutor } from "./_shell.ts";
import type { Executor } from "./_types.ts";
import { withSecrets } from "./secrets.ts";

export type { ExecutionRequest, ExecutionResult, Executor } from "./_types.ts";
export { OutputSink } from "./_types.ts";
export { parseMemoryLimit, splitShellWords } from "./_parse.ts";
export { loadPlugins, pluginExecutor, pluginProtocolVersion } from "./_plugin.ts";
export {
  type OutputRetention,
  OutputStore,
  type SqlDb,
  type StoredOutput,
} from "./output_store.ts";

export { checkSecretRefs, Redactor, resolveSecrets, withSecrets } from "./secrets.ts";

/**
 * A fresh registry of the built-in executors by (lower-case) name, each resolving
 * `${env:TOCK_SECRET_*}` / `${file:...}` secrets on this node and redacting them (secrets.ts).
 */
export function executorRegistry(): Map<string, Executor> {
  return new Map<string, Executor>(
    [
      shellExecutor,
      httpExecutor,
      noopExecutor,
      grpcExecutor,
      natsExecutor,
      rabbitmqExecutor,
      kafkaExecutor,
      redisExecutor,
    ].map((e) => [e.name, withSecrets(e)]),
  );
}
