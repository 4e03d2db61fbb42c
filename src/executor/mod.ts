/**
 * executor: runs one execution on this node behind one interface (shell, http, noop; more
 * register here), and keeps execution output in the local output.db.
 */
import { httpExecutor } from "./_http.ts";
import { noopExecutor } from "./_noop.ts";
import { shellExecutor } from "./_shell.ts";
import type { Executor } from "./_types.ts";
import { withSecrets } from "./secrets.ts";

export type { ExecutionRequest, ExecutionResult, Executor } from "./_types.ts";
export { OutputSink } from "./_types.ts";
export { parseMemoryLimit, splitShellWords } from "./_parse.ts";
export {
  type OutputRetention,
  OutputStore,
  type SqlDb,
  type StoredOutput,
} from "./output_store.ts";

export { checkSecretRefs, Redactor, resolveSecrets, withSecrets } from "./secrets.ts";

/**
 * A fresh registry of the built-in executors by name: shell, http and noop, each resolving
 * `${env:TOCK_SECRET_*}` / `${file:...}` secrets on this node and redacting them (secrets.ts).
 */
export function executorRegistry(): Map<string, Executor> {
  return new Map<string, Executor>(
    [shellExecutor, httpExecutor, noopExecutor].map((e) => [e.name, withSecrets(e)]),
  );
}
