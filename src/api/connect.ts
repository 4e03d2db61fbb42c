/**
 * The Connect / gRPC-web JobService, served on the REST port through Hono fetch handlers.
 * Writes go through the same parse → validate → propose path as REST, and job/execution shapes
 * are built from the REST renderers (toApiJob, toApiExecution), so both APIs agree on values
 * and error messages. Errors map to Connect codes through the one table in errors.ts.
 */
import { create, fromBinary, fromJson, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  createConnectRouter,
  type HandlerContext,
  type Interceptor,
} from "@connectrpc/connect";
import { createFetchHandler } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorToJson } from "@connectrpc/connect/protocol-connect";
import type { Env, Hono, Schema } from "hono";
import type {} from "hono/request-id"; // types c.get("requestId")
import {
  assert,
  errorMessage,
  invalid,
  limits,
  notFound,
  rfc3339,
  TockError,
  zeroTime,
} from "../lib/mod.ts";
import {
  type Execution as StateExecution,
  type Job as StateJob,
  type JobQuery,
  parseJobBody,
  queryJobs,
  toApiExecution,
  toApiJob,
  validateJob,
} from "../state/mod.ts";
import {
  type Execution,
  ExecutionSchema,
  type Job,
  JobSchema,
  JobService,
  type WatchExecutionResponse,
  WatchExecutionResponseSchema,
} from "../gen/tock/v1/job_pb.ts";
import { ClusterService } from "../gen/tock/v1/cluster_pb.ts";
import { ChangeFeed, watchChanges } from "./changes.ts";
import type { ApiDeps } from "./deps.ts";
import { readBodyBytes } from "./body.ts";
import { connectCode } from "./errors.ts";
import { logInternalError, requestIdHeader } from "./log.ts";

/** Registers JobService on a fresh Connect router and mounts every method on `app` (POST). */
export function mountConnect<E extends Env, S extends Schema, B extends string>(
  app: Hono<E, S, B>,
  deps: ApiDeps,
  options: ConnectOptions = {},
): void {
  const router = createConnectRouter({
    interceptors: [reportInternal, ...(options.interceptors ?? [])],
    readMaxBytes: limits.requestBodyBytesMax,
    // JSON in REST's shape: snake_case names, every field present.
    jsonOptions: { useProtoFieldName: true, alwaysEmitImplicit: true },
  });
  registerJobService(router, deps, options);
  registerClusterService(router, deps);
  for (const h of router.handlers) {
    const handle = createFetchHandler(h);
    // The request id travels to the interceptor (which sees only the request) as a header.
    const withId = (c: { req: { raw: Request }; get(key: "requestId"): unknown }) => {
      const headers = new Headers(c.req.raw.headers);
      const id = c.get("requestId") as string | undefined;
      if (id !== undefined) headers.set(requestIdHeader, id);
      return new Request(c.req.raw, { headers });
    };
    // Reads marked NO_SIDE_EFFECTS also answer Connect GET, which HTTP caches and ETags serve.
    if (h.allowedMethods.includes("GET")) app.get(h.requestPath, (c) => handle(withId(c)));
    app.post(h.requestPath, async (c) => {
      const req = withId(c);
      if (h.method.methodKind !== "unary" || !isUncompressedConnectProto(req)) return handle(req);
      // connect-es answers `internal` for an undecodable binary request (its decoder is shared
      // with responses); a bad request is the client's error, so decode once here first.
      let bytes: Uint8Array<ArrayBuffer>;
      try {
        bytes = await readBodyBytes(req, limits.requestBodyBytesMax);
        fromBinary(h.method.input, bytes);
      } catch (e) {
        const err = e instanceof TockError ? toConnectError(e) : new ConnectError(
          `the request body is not a valid ${h.method.input.typeName} message: ${errorMessage(e)}`,
          Code.InvalidArgument,
        );
        return connectErrorResponse(err);
      }
      return handle(new Request(req.url, { method: "POST", headers: req.headers, body: bytes }));
    });
  }
}

/** Logs every Internal answer once, with the request id, as REST does for a 500. */
const reportInternal: Interceptor = (next) => async (req) => {
  const where = `${req.service.typeName}/${req.method.name}`;
  const id = req.header.get(requestIdHeader) ?? undefined;
  const report = (e: unknown) => {
    if (e instanceof ConnectError && e.code === Code.Internal) {
      logInternalError(where, id, e.cause ?? e);
    }
    return e;
  };
  let res: Awaited<ReturnType<typeof next>>;
  try {
    res = await next(req);
  } catch (e) {
    throw report(e);
  }
  if (!res.stream) return res;
  const messages = res.message;
  return {
    ...res,
    message: (async function* () {
      try {
        yield* messages;
      } catch (e) {
        throw report(e);
      }
    })(),
  };
};

/** A Connect unary request in the binary codec without Content-Encoding. */
function isUncompressedConnectProto(req: Request): boolean {
  const type = (req.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  const encoding = req.headers.get("content-encoding") ?? "identity";
  return type === "application/proto" && encoding === "identity";
}

/** A Connect unary error response (JSON body, HTTP status per the Connect protocol). */
function connectErrorResponse(e: ConnectError): Response {
  return new Response(JSON.stringify(errorToJson(e, undefined)), {
    status: codeToHttpStatus(e.code),
    headers: { "content-type": "application/json" },
  });
}

export interface ConnectOptions {
  /** This node's pause flag (POST /v1/pause): while true, UpsertJob is refused as REST does. */
  paused?: () => boolean;
  /** Run before every method (the ACL check). */
  interceptors?: Interceptor[];
}

/** Adds the JobService implementation over `deps` to a Connect router. */
export function registerJobService(
  router: ConnectRouter,
  deps: ApiDeps,
  options: ConnectOptions = {},
): void {
  const changes = new ChangeFeed((listener) => deps.onStateChange(listener));
  router.service(JobService, {
    listJobs: (req) =>
      guard(() => {
        const query: JobQuery = {
          q: req.q,
          metadata: req.metadata,
          status: req.status,
          sort: req.sort,
        };
        query.order = req.order;
        if (req.disabled !== undefined) query.disabled = String(req.disabled);
        if (req.start !== undefined) query.start = String(req.start);
        if (req.end !== undefined) query.end = String(req.end);
        query.tags = req.tags;
        query.owner = req.owner;
        if (req.failedWithinSeconds !== undefined) {
          query.failedSinceMs = deps.nowMs() - req.failedWithinSeconds * 1000;
        }
        if (req.recentRuns > limits.recentRunsMax) {
          throw invalid(
            `field "recent_runs" is ${req.recentRuns}, above the limit ${limits.recentRunsMax}`,
          );
        }
        const { jobs, total } = queryJobs(deps.jobsByName(), query, true);
        const recent: Record<string, { statuses: string[] }> = {};
        if (req.recentRuns > 0) {
          for (const j of jobs) {
            const statuses = deps.executionsOf(j.name).slice(-req.recentRuns).map((e) => e.status);
            recent[j.name] = { statuses };
          }
        }
        return { jobs: jobs.map(jobToProto), total, recent };
      }),

    getJob: (req) =>
      guard(() => ({ job: jobToProto(mustGetJob(deps, required("name", req.name))) })),

    upsertJob: (req) =>
      guardAsync(async () => {
        if (options.paused?.()) {
          throw new TockError("paused", "New job submissions are currently paused");
        }
        if (req.job === undefined) {
          throw invalid(`Unable to parse payload: field "job" is required.`);
        }
        const job = parseJobBody(jobToBody(req.job));
        validateJob(job, deps.checkExecutor);
        job.next = deps.nextRun(job, deps.nowMs());
        const { job: stored } = await deps.propose({ type: "job.upsert", job });
        assert(stored !== undefined, `apply() of an upsert of "${job.name}" returned no job`);
        if (req.runOnCreate) {
          deps.runJob(stored.name).catch((e) =>
            console.error(`tock: run_on_create of "${stored.name}" failed: ${errorMessage(e)}`)
          );
        }
        return { job: jobToProto(stored) };
      }),

    deleteJob: (req) =>
      guardAsync(async () => {
        const name = required("name", req.name);
        // Read before the write: a deduplicated retry of a delete answers no job (it is gone).
        const before = deps.getJob(name);
        const { job } = await deps.propose({ type: "job.delete", name });
        const answer = job ?? before;
        return answer === undefined ? {} : { job: jobToProto(answer) };
      }),

    runJob: (req) =>
      guardAsync(async () => {
        const job = mustGetJob(deps, required("name", req.name));
        const execution = await deps.runJob(job.name, req.force);
        return { execution: executionToProto(execution, execution.output_tail) };
      }),

    toggleJob: (req) =>
      guardAsync(async () => {
        const job = mustGetJob(deps, required("name", req.name));
        const next = deps.nextRun({ ...job, disabled: false }, deps.nowMs());
        const { job: toggled } = await deps.propose({ type: "job.toggle", name: job.name, next });
        assert(toggled !== undefined, `apply() of a toggle of "${job.name}" returned no job`);
        return { job: jobToProto(toggled) };
      }),

    listExecutions: (req) =>
      guard(() => {
        const job = mustGetJob(deps, required("job_name", req.jobName));
        // REST's default order: newest started first (started_at, else the slot; then attempt).
        const started = (e: StateExecution) => e.started_at ?? e.group;
        const all = deps.executionsOf(job.name).sort((a, b) =>
          started(b) - started(a) || b.attempt - a.attempt
        );
        return {
          executions: all.map((e) => {
            const full = deps.executionOutput(e.job_name, e.id) ?? e.output_tail;
            if (req.outputSizeLimit === undefined) return executionToProto(e, full);
            const cut = lastBytes(full, req.outputSizeLimit);
            return executionToProto(e, cut.text, cut.truncated);
          }),
        };
      }),

    getExecution: (req) =>
      guard(() => {
        const e = mustGetExecution(
          deps,
          required("job_name", req.jobName),
          required("execution_id", req.executionId),
        );
        return {
          execution: executionToProto(e, deps.executionOutput(e.job_name, e.id) ?? e.output_tail),
        };
      }),

    killExecution: (req) =>
      guardAsync(async () => {
        const e = mustGetExecution(
          deps,
          required("job_name", req.jobName),
          required("execution_id", req.executionId),
        );
        await deps.killExecution(e.job_name, e.id);
        // Killed: answer with the finished record, or the last one seen if it is gone since.
        const done = deps.executionsOf(e.job_name).find((x) => x.id === e.id) ?? e;
        return {
          execution: executionToProto(
            done,
            deps.executionOutput(done.job_name, done.id) ?? done.output_tail,
          ),
        };
      }),

    getNextRuns: (req) =>
      guard(() => {
        const job = mustGetJob(deps, required("name", req.name));
        const n = req.n === 0 ? nextRunsDefault : req.n;
        if (n > limits.nextRunsMax) {
          throw invalid(`field "n" is ${n}, above the limit ${limits.nextRunsMax}`);
        }
        const afterMs = req.after === undefined ? deps.nowMs() : timestampMs(req.after);
        return { runs: deps.nextRuns(job, afterMs, n).map((ms) => timestampFromMs(ms)) };
      }),

    watchExecution: (req, ctx) => watchExecution(deps, req.jobName, req.executionId, ctx),

    watchChanges: (_req, ctx) => watchChanges(changes, ctx),

    listRunningExecutions: () =>
      guard(() => ({ executions: deps.runningExecutions().map((e) => executionToProto(e, "")) })),

    getUpcoming: (req) => guard(() => upcoming(deps, req.hours, req.bucketMinutes, req.limit)),

    getActivity: () =>
      guard(() => {
        const now = deps.nowMs();
        const a = deps.activity(now - 3_600_000, now - 60_000);
        const count = (status: string) => a.byStatus[status] ?? 0;
        let failing = 0, total = 0;
        for (const j of deps.allJobs()) {
          total++;
          if (j.status === "failed") failing++;
        }
        const launched = Object.entries(a.byStatus)
          .filter(([status]) => status !== "missed")
          .reduce((sum, [, n]) => sum + n, 0);
        return {
          launchesLastMinute: a.recent,
          launchesLastHour: launched,
          succeededLastHour: count("success"),
          failedLastHour: count("failed"),
          missedLastHour: count("missed"),
          lostLastHour: count("lost"),
          running: deps.runningExecutions().length,
          latenessP50Ms: a.latenessP50Ms ?? 0,
          latenessP99Ms: a.latenessP99Ms ?? 0,
          jobsFailing: failing,
          jobsTotal: total,
        };
      }),
  });
}

/** Adds ClusterService (GetCluster) over the `cluster()` port and the replicated running set. */
export function registerClusterService(router: ConnectRouter, deps: ApiDeps): void {
  router.service(ClusterService, {
    getCluster: () =>
      guard(() => {
        const view = deps.cluster();
        const running = new Map<string, number>();
        for (const e of deps.runningExecutions()) {
          running.set(e.node_name, (running.get(e.node_name) ?? 0) + 1);
        }
        return {
          leader: view.leader,
          term: BigInt(view.term),
          commitIndex: BigInt(view.commitIndex),
          appliedIndex: BigInt(view.appliedIndex),
          node: deps.nodeName,
          members: view.members.map((m) => ({
            name: m.name,
            addr: m.addr,
            role: m.role,
            raftState: m.raftState,
            gossipState: m.gossipState,
            tags: { ...m.tags },
            running: running.get(m.name) ?? 0,
          })),
        };
      }),
  });
}

/**
 * Launches of enabled jobs over the next `hours`: a histogram and the soonest ones. Each job's
 * stored `next` skips jobs with nothing in the window and gives the first slot for free; the
 * schedule is stepped only for later slots, within limits.upcomingSlotsMax steps in total
 * (then `truncated`).
 */
export function upcoming(
  deps: ApiDeps,
  hoursReq: number,
  bucketReq: number,
  limitReq: number,
): {
  from: Timestamp;
  buckets: number[];
  bucketMinutes: number;
  soonest: { jobName: string; at: Timestamp }[];
  truncated: boolean;
} {
  const hours = hoursReq === 0 ? limits.upcomingHoursMax : hoursReq;
  const bucketMinutes = bucketReq === 0 ? 15 : bucketReq;
  const limit = limitReq === 0 ? 50 : limitReq;
  if (hours > limits.upcomingHoursMax) {
    throw invalid(`field "hours" is ${hours}, above the limit ${limits.upcomingHoursMax}`);
  }
  if (bucketMinutes > 60) throw invalid(`field "bucket_minutes" is ${bucketMinutes}, above 60`);
  if (limit > limits.upcomingListMax) {
    throw invalid(`field "limit" is ${limit}, above the limit ${limits.upcomingListMax}`);
  }
  const from = deps.nowMs();
  const end = from + hours * 3_600_000;
  const bucketMs = bucketMinutes * 60_000;
  const buckets = new Array<number>(Math.ceil((end - from) / bucketMs)).fill(0);
  const soonest: { job: string; at: number }[] = [];
  let budget = limits.upcomingSlotsMax;
  let truncated = false;
  for (const job of deps.allJobs()) {
    if (job.disabled || job.next === null || job.next >= end) continue;
    if (budget <= 0) {
      truncated = true;
      break;
    }
    // The stored `next` is the first slot for free (unless the scheduler is behind); a daily
    // job then costs one schedule step, and the steps grow for frequent schedules.
    let after = from;
    if (job.next > from) {
      buckets[Math.floor((job.next - from) / bucketMs)]!++;
      soonest.push({ job: job.name, at: job.next });
      after = job.next;
    }
    let step = 1;
    for (;;) {
      const want = Math.min(step, budget);
      const slots = deps.nextRuns(job, after, want);
      budget -= slots.length;
      for (const at of slots) {
        if (at >= end) break;
        buckets[Math.floor((at - from) / bucketMs)]!++;
        soonest.push({ job: job.name, at });
      }
      const last = slots[slots.length - 1];
      if (last === undefined || last >= end || slots.length < want) break; // window or schedule over
      if (budget <= 0) {
        truncated = true;
        break;
      }
      after = last;
      step = Math.min(step * 4, 4_096);
    }
    if (soonest.length > limit * 8) {
      soonest.sort((a, b) => a.at - b.at || (a.job < b.job ? -1 : 1));
      soonest.length = limit;
    }
  }
  soonest.sort((a, b) => a.at - b.at || (a.job < b.job ? -1 : 1));
  return {
    from: timestampFromMs(from),
    buckets,
    bucketMinutes,
    soonest: soonest.slice(0, limit).map((s) => ({ jobName: s.job, at: timestampFromMs(s.at) })),
    truncated,
  };
}

async function* watchExecution(
  deps: ApiDeps,
  jobName: string,
  executionId: string,
  ctx: HandlerContext,
): AsyncGenerator<WatchExecutionResponse> {
  try {
    const e = mustGetExecution(
      deps,
      required("job_name", jobName),
      required("execution_id", executionId),
    );
    for await (const chunk of deps.watchOutput(e.job_name, e.id, ctx.signal)) {
      for (let at = 0; at < chunk.length; at += limits.watchChunkBytesMax) {
        const value = chunk.subarray(at, at + limits.watchChunkBytesMax);
        yield create(WatchExecutionResponseSchema, { event: { case: "output", value } });
      }
    }
    if (ctx.signal.aborted) return;
    const done = deps.executionsOf(e.job_name).find((x) => x.id === e.id);
    if (done !== undefined && done.status !== "running") {
      const output = deps.executionOutput(done.job_name, done.id) ?? done.output_tail;
      yield create(WatchExecutionResponseSchema, {
        event: { case: "finished", value: executionToProto(done, output) },
      });
    }
  } catch (e) {
    throw toConnectError(e);
  }
}

// ---- conversions ----

/**
 * A REST field the proto lacks is dropped rather than failing every read in production; the
 * test "every REST field has a proto field" catches the drift.
 */
const lenient = { ignoreUnknownFields: true } as const;

/** A job in the Connect shape, via the REST renderer so both APIs show the same values. */
export function jobToProto(job: StateJob): Job {
  const api = toApiJob(job);
  const json: JsonObject = { ...(api as unknown as JsonObject) };
  if (api.next === zeroTime) delete json["next"];
  const processors: JsonObject = {};
  for (const [name, values] of Object.entries(api.processors)) processors[name] = { values };
  json["processors"] = processors;
  return fromJson(JobSchema, json, lenient);
}

/** An execution in the Connect shape; `output` is the full output or a cut of it. */
export function executionToProto(e: StateExecution, output: string, truncated = false): Execution {
  const api = toApiExecution(e, output);
  const json: JsonObject = { ...(api as unknown as JsonObject) };
  if (api.started_at === zeroTime) delete json["started_at"];
  if (api.finished_at === zeroTime) delete json["finished_at"];
  // toApiExecution's number loses precision above 2^53; int64 carries the exact nanoseconds.
  json["group"] = String(BigInt(e.group) * 1_000_000n);
  json["output_truncated"] = truncated;
  return fromJson(ExecutionSchema, json, lenient);
}

/**
 * The REST JSON body for a Connect job, so parseJobBody applies the same rules and messages.
 * Proto cannot tell an empty map or list from a missing one; both become null as when omitted,
 * and an empty concurrency is omitted so it takes the default.
 */
export function jobToBody(j: Job): Record<string, JsonValue> {
  const time = (
    t: Timestamp | undefined,
  ): JsonValue => (t === undefined ? null : rfc3339(timestampMs(t)));
  const map = (
    m: Record<string, string>,
  ): JsonValue => (Object.keys(m).length === 0 ? null : { ...m });
  const processors: JsonObject = {};
  for (const [name, cfg] of Object.entries(j.processors)) processors[name] = { ...cfg.values };
  const body: Record<string, JsonValue> = {
    id: j.id,
    name: j.name,
    displayname: j.displayname,
    timezone: j.timezone,
    schedule: j.schedule,
    owner: j.owner,
    owner_email: j.ownerEmail,
    success_count: int64(j.successCount),
    error_count: int64(j.errorCount),
    last_success: time(j.lastSuccess),
    last_error: time(j.lastError),
    disabled: j.disabled,
    tags: map(j.tags),
    metadata: map(j.metadata),
    retries: j.retries,
    dependent_jobs: j.dependentJobs.length === 0 ? null : [...j.dependentJobs],
    parent_job: j.parentJob,
    processors,
    executor: j.executor,
    executor_config: map(j.executorConfig),
    status: j.status,
    next: time(j.next),
    ephemeral: j.ephemeral,
    starts_at: time(j.startsAt),
    expires_at: time(j.expiresAt),
    misfire_policy: j.misfirePolicy,
    starting_deadline: j.startingDeadline,
    retry_delay: j.retryDelay,
    retry_delay_max: j.retryDelayMax,
  };
  // Unset and "" are the same in proto: both take REST's default for an absent field ("allow").
  if (j.concurrency !== "") body["concurrency"] = j.concurrency;
  return body;
}

/** Exact when safe; otherwise a value parseJobBody rejects with the field named. */
function int64(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER + 1 : Number(v);
}

/** The last `max` bytes of `text` as UTF-8, cut at a character boundary. */
export function lastBytes(text: string, max: number): { text: string; truncated: boolean } {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= max) return { text, truncated: false };
  let from = bytes.length - max;
  while (from < bytes.length && ((bytes[from] as number) & 0xc0) === 0x80) from++;
  return { text: new TextDecoder().decode(bytes.subarray(from)), truncated: true };
}

/** Slots GetNextRuns returns when the request leaves n at 0 (REST's default for ?n). */
const nextRunsDefault = 10;

// ---- lookups and errors ----

function required(field: string, value: string): string {
  if (value === "") throw invalid(`field "${field}" is required`);
  return value;
}

function mustGetJob(deps: ApiDeps, name: string): StateJob {
  const job = deps.getJob(name);
  if (job === undefined) throw notFound(`job "${name}" not found`);
  return job;
}

function mustGetExecution(deps: ApiDeps, jobName: string, id: string): StateExecution {
  const job = mustGetJob(deps, jobName);
  const e = deps.executionsOf(job.name).find((x) => x.id === id);
  if (e === undefined) throw notFound(`execution "${id}" of job "${jobName}" not found`);
  return e;
}

/**
 * A TockError as a ConnectError with its mapped code; a leader hint rides in `tock-leader`.
 * Anything else is a bug: logged, and answered as Internal with its message, as REST does.
 */
export function toConnectError(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  if (!(e instanceof TockError)) {
    // Reported (logged once, with the request id) by the reportInternal interceptor.
    return new ConnectError(
      `internal error: ${errorMessage(e)}`,
      Code.Internal,
      undefined,
      undefined,
      e,
    );
  }
  const metadata = new Headers();
  if (e.leaderHint !== undefined) metadata.set("tock-leader", e.leaderHint);
  return new ConnectError(e.message, connectCode(e.kind), metadata, undefined, e);
}

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw toConnectError(e);
  }
}

async function guardAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toConnectError(e);
  }
}
