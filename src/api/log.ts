/**
 * How the API reports a request it could not handle (a bug, answered 500 / Connect internal):
 * one line with the request id and the error at the default level, the stack only at debug. The
 * stack of the compiled binary has real file names because scripts/compile.ts embeds a source
 * map; printing the Error object itself would dump the minified source line instead.
 */
import { errorMessage } from "../lib/mod.ts";

let debug = false;

/** Sets the agent's --log-level for API error reports ("debug" adds stacks). */
export function setLogLevel(level: string): void {
  debug = level === "debug";
}

/** Header that carries the request id (taken from the client when it sends one). */
export const requestIdHeader = "X-Request-Id";

export function logInternalError(where: string, requestId: string | undefined, e: unknown): void {
  const oneLine = errorMessage(e).replace(/\s*\n\s*/g, " ");
  console.error(`tock: internal error in ${where} (request ${requestId ?? "unknown"}): ${oneLine}`);
  if (debug && e instanceof Error && e.stack) console.error(e.stack);
}
