/**
 * `tock job run NAME --wait`: starts a run, streams its output as it is printed (Connect
 * WatchExecution) and returns the run's exit code, as `kubectl logs -f` users expect.
 */
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { invalid, limits } from "../lib/mod.ts";
import { type Execution, JobService } from "../gen/tock/v1/job_pb.ts";

export interface WaitIo {
  address: string;
  /** ACL secret, sent as Authorization: Bearer on every call. */
  token?: string | undefined;
  /** The fetch to use (one that trusts a private CA for HTTPS agents). */
  fetch?: typeof fetch;
  /** Raw output bytes of the run (stdout of the CLI). */
  write(chunk: Uint8Array): void;
  /** Status lines (stderr of the CLI), kept apart from the run's own output. */
  err(line: string): void;
}

const reconnectsMax = limits.cliWatchReconnectsMax;
const pollMs = limits.cliWatchPollMs;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `name` now and follows it to the end; resolves with the exit code to exit with. */
export async function runAndWait(io: WaitIo, name: string, force: boolean): Promise<number> {
  const auth: Interceptor = (next) => (req) => {
    if (io.token !== undefined && io.token !== "") {
      req.header.set("authorization", `Bearer ${io.token}`);
    }
    return next(req);
  };
  const client = createClient(
    JobService,
    createConnectTransport({
      baseUrl: io.address,
      interceptors: [auth],
      ...(io.fetch === undefined ? {} : { fetch: io.fetch }),
    }),
  );
  const started = await rpc(io, () => client.runJob({ name, force }));
  const id = started.execution?.id ?? "";
  io.err(`job "${name}" started (execution ${id})`);
  let seen = 0;
  let failures = 0;
  let finished: Execution | undefined;
  while (finished === undefined) {
    let offset = 0;
    try {
      for await (const ev of client.watchExecution({ jobName: name, executionId: id })) {
        if (ev.event.case === "output") {
          // After a reconnect the stream starts over: skip the bytes already written.
          const chunk = ev.event.value;
          const fresh = chunk.subarray(Math.max(0, Math.min(chunk.length, seen - offset)));
          offset += chunk.length;
          if (fresh.length > 0) {
            io.write(fresh);
            seen += fresh.length;
          }
        } else if (ev.event.case === "finished") finished = ev.event.value;
      }
      if (finished !== undefined) break;
      // Ended without a summary (this node does not run it): look at the record, then again.
      const { execution } = await client.getExecution({ jobName: name, executionId: id });
      if (execution !== undefined && execution.status !== "running") finished = execution;
      else await pause(pollMs);
    } catch (e) {
      const code = e instanceof ConnectError ? e.code : Code.Unavailable;
      if (code !== Code.Unavailable && code !== Code.Unknown && code !== Code.Aborted) {
        throw invalid(`watching execution ${id} of job "${name}": ${message(e)}`);
      }
      if (++failures > reconnectsMax) {
        throw invalid(`lost the stream of execution ${id} of job "${name}": ${message(e)}`);
      }
      await pause(pollMs * failures);
    }
  }
  const code = finished.exitCode ?? (finished.success ? 0 : 1);
  const why = finished.reason ? `: ${finished.reason}` : "";
  io.err(`execution ${id} ${finished.status} (exit code ${finished.exitCode ?? "none"})${why}`);
  return code;
}

async function rpc<T>(io: WaitIo, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (
      e instanceof ConnectError && e.code === Code.Unavailable &&
      /fetch|connect/i.test(e.rawMessage)
    ) {
      throw invalid(
        `cannot reach Tock at ${io.address}: ${e.rawMessage} (set --address or TOCK_ADDR)`,
      );
    }
    throw invalid(message(e));
  }
}

function message(e: unknown): string {
  return e instanceof ConnectError ? e.rawMessage : e instanceof Error ? e.message : String(e);
}
