/**
 * The Dkron-compatible REST API under /v1 (reference/dkron.md §1). Same routes, field names and
 * status codes; error bodies are JSON {"error": "..."}; Dkron's crashes on bad paging or sort
 * parameters are 400s with a message.
 */
import type { Context, Hono } from "hono";
import type {} from "hono/request-id"; // types c.get("requestId")
import {
  errorMessage,
  invalid,
  isTockError,
  limits,
  notFound,
  rfc3339,
  TockError,
} from "../lib/mod.ts";
import {
  type ApiExecution,
  type Execution,
  type Job,
  parseJobBody,
  queryJobs,
  toApiExecution,
  toApiJob,
  validateJob,
} from "../state/mod.ts";
import { validateAtNotPast } from "../schedule/mod.ts";
import { scheduleOf } from "../scheduler/mod.ts";
import type { ApiDeps, Member } from "./deps.ts";
import { readBodyBytes } from "./body.ts";
import { httpStatus } from "./errors.ts";
import { logInternalError, requestIdHeader } from "./log.ts";

/** Per-node API state that is not replicated (Dkron's pause flag is per node, in memory). */
export interface RestState {
  paused: boolean;
}

/** Writes JSON, indented when the query has `pretty` (any value), as Dkron does. */
export function sendJson(
  c: Context,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  const pretty = c.req.query("pretty") !== undefined;
  const text = pretty ? JSON.stringify(body, null, 2) + "\n" : JSON.stringify(body);
  return new Response(text, {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

export function sendError(c: Context, e: unknown, overrideStatus?: number): Response {
  if (isTockError(e)) {
    return sendJson(c, overrideStatus ?? httpStatus(e.kind), { error: e.message });
  }
  const id = c.get("requestId");
  logInternalError(`${c.req.method} ${c.req.path}`, id, e);
  return sendJson(c, 500, { error: `internal error (request ${id}): ${errorMessage(e)}` }, {
    [requestIdHeader]: id,
  });
}

/** The body as UTF-8 text under the byte limit; invalid UTF-8 is a 400, not replaced. */
async function readBodyText(c: Context, max: number): Promise<string> {
  const bytes = await readBodyBytes(c.req.raw, max);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw invalid("Unable to parse payload: the request body is not valid UTF-8.");
  }
}

async function readJson(c: Context): Promise<unknown> {
  const text = await readBodyText(c, limits.requestBodyBytesMax);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalid(`Unable to parse payload: ${errorMessage(e)}.`);
  }
}

function memberJson(m: Member, withId: boolean) {
  const { id, statusText: given, ...member } = m as Member & { id?: string; statusText?: string };
  const statusText = given ?? ["none", "alive", "leaving", "left", "failed"][m.Status] ??
    "unknown";
  // A member from the gossip layer carries its own protocol fields; these are the fallback.
  const base = {
    ProtocolMin: 1,
    ProtocolMax: 5,
    ProtocolCur: 2,
    DelegateMin: 2,
    DelegateMax: 5,
    DelegateCur: 4,
    ...member,
  };
  return withId ? { id: id ?? crypto.randomUUID(), ...base, statusText } : base;
}

export function mountRest(app: Hono, deps: ApiDeps, state: RestState): void {
  const getJobOr404 = (name: string): Job => {
    const job = deps.getJob(name);
    if (!job) throw notFound(`job "${name}" not found`);
    return job;
  };

  /** Validates and stores one job; returns the stored job. */
  const upsert = async (body: unknown): Promise<Job> => {
    const job = parseJobBody(body);
    validateJob(job, deps.checkExecutor);
    const now = deps.nowMs();
    if (!deps.getJob(job.name)) refuseAtInPast(job, now);
    job.next = deps.nextRun(job, now);
    const { job: stored } = await deps.propose({ type: "job.upsert", job });
    return stored as Job;
  };

  app.get("/v1", (c) => sendJson(c, 200, statusBody(deps)));
  app.get("/v1/", (c) => sendJson(c, 200, statusBody(deps)));

  app.get("/v1/members", (c) => {
    const members = deps.members().map((m) => memberJson(m, true));
    return sendJson(c, 200, members, { "X-Total-Count": String(members.length) });
  });
  app.get("/v1/leader", (c) => {
    const leader = deps.leader();
    if (!leader) return sendJson(c, 500, { error: "no leader elected yet" });
    return sendJson(c, 200, memberJson(leader, false));
  });
  app.get(
    "/v1/isleader",
    (c) =>
      deps.isLeader() ? sendJson(c, 200, "I am a leader") : sendJson(c, 404, "I am a follower"),
  );

  const createOrUpdate = async (c: Context) => {
    if (state.paused) {
      return sendJson(c, 503, { error: "New job submissions are currently paused" });
    }
    const stored = await upsert(await readJson(c));
    if (c.req.query("runoncreate") !== undefined) {
      deps.runJob(stored.name).catch((e) =>
        console.error(`tock: runoncreate of "${stored.name}" failed: ${errorMessage(e)}`)
      );
    }
    // Percent-encoded: a header value is Latin-1 bytes, and job names may be any lower-case letter.
    const path = new URL(c.req.url).pathname;
    return sendJson(c, 201, toApiJob(stored), {
      Location: `${path}/${encodeURIComponent(stored.name)}`,
    });
  };
  app.post("/v1/jobs", createOrUpdate);
  app.patch("/v1/jobs", createOrUpdate);
  app.put("/v1/jobs/:job", createOrUpdate);

  app.get("/v1/jobs", (c) => {
    const metadata: Record<string, string> = {};
    for (const [k, v] of new URL(c.req.url).searchParams) {
      const m = /^metadata\[(.+)\]$/.exec(k);
      if (m) metadata[m[1] as string] = v;
    }
    const q = (k: string) => c.req.query(k);
    const { jobs, total } = queryJobs([...deps.allJobs()], {
      ...opt("q", q("q")),
      metadata,
      ...opt("status", q("status")),
      ...opt("disabled", q("disabled")),
      ...opt("sort", q("_sort")),
      ...opt("order", q("_order")),
      ...opt("start", q("_start")),
      ...opt("end", q("_end")),
    });
    return sendJson(c, 200, jobs.map((j) => toApiJob(j)), { "X-Total-Count": String(total) });
  });

  app.get("/v1/jobs/:job", (c) => {
    return sendJson(c, 200, toApiJob(getJobOr404(c.req.param("job"))));
  });

  app.delete("/v1/jobs/:job", async (c) => {
    try {
      const name = c.req.param("job");
      // Read before the write: a retried delete the door deduplicated answers no job (it is gone),
      // and nothing that can fail may run after the committed delete.
      const before = deps.getJob(name);
      const { job } = await deps.propose({ type: "job.delete", name });
      const answer = job ?? before;
      return answer === undefined ? sendJson(c, 200, { name }) : sendJson(c, 200, toApiJob(answer));
    } catch (e) {
      // Dkron answers 404 for every delete failure (including "has dependent jobs").
      return sendError(c, e, isTockError(e) && e.kind === "conflict" ? 404 : undefined);
    }
  });

  const run = async (c: Context) => {
    const name = c.req.param("job") as string;
    const before = getJobOr404(name);
    const force = c.req.query("force");
    const execution = await deps.runJob(name, force !== undefined && force !== "false");
    // The run has started: answer with what is known even if the job was deleted meanwhile.
    const path = new URL(c.req.url).pathname;
    return sendJson(c, 200, toApiJob(deps.getJob(name) ?? before), {
      Location: path,
      "X-Execution-Id": execution.id,
    });
  };
  app.post("/v1/jobs/:job", run);
  app.post("/v1/jobs/:job/run", run);

  app.post("/v1/jobs/:job/toggle", async (c) => {
    const job = getJobOr404(c.req.param("job"));
    const next = deps.nextRun({ ...job, disabled: false }, deps.nowMs());
    const { job: toggled } = await deps.propose({ type: "job.toggle", name: job.name, next });
    return sendJson(c, 200, toApiJob(toggled as Job));
  });

  app.get("/v1/jobs/:job/next", (c) => {
    const job = getJobOr404(c.req.param("job"));
    const nText = c.req.query("n") ?? "10";
    if (!/^\d+$/.test(nText) || Number(nText) < 1 || Number(nText) > 1000) {
      throw invalid(`query parameter n must be an integer from 1 to 1000, got "${nText}"`);
    }
    const slots = deps.nextRuns(job, deps.nowMs(), Number(nText)).map(rfc3339);
    return sendJson(c, 200, slots, { "X-Total-Count": String(slots.length) });
  });

  app.get("/v1/jobs/:job/executions", (c) => {
    const job = getJobOr404(c.req.param("job"));
    const sort = c.req.query("_sort") ?? "";
    const order = c.req.query("_order") ?? "DESC";
    const limitText = c.req.query("output_size_limit");
    let limit: number | undefined;
    if (limitText !== undefined && limitText !== "") {
      if (!/^\d+$/.test(limitText)) {
        throw invalid(
          `query parameter output_size_limit must be a non-negative integer, got "${limitText}"`,
        );
      }
      limit = Number(limitText);
    }
    const key = executionSortKey(sort);
    const list = deps.executionsOf(job.name).sort((a, b) =>
      key(a) - key(b) || a.attempt - b.attempt
    );
    if (order !== "ASC") list.reverse();
    const out: ApiExecution[] = list.map((e) => {
      const full = deps.executionOutput(job.name, e.id) ?? e.output_tail;
      const api = toApiExecution(e, full);
      if (limit !== undefined) {
        const bytes = new TextEncoder().encode(full);
        api.output_truncated = bytes.length > limit;
        if (api.output_truncated) {
          api.output = new TextDecoder().decode(bytes.subarray(bytes.length - limit));
        }
      } else api.output_truncated = false;
      return api;
    });
    return sendJson(c, 200, out, { "X-Total-Count": String(out.length) });
  });

  app.delete("/v1/jobs/:job/executions", async (c) => {
    const { job } = await deps.propose({ type: "executions.clear", job: c.req.param("job") });
    return sendJson(c, 200, toApiJob(job as Job));
  });

  app.get("/v1/jobs/:job/executions/:execution", (c) => {
    const job = getJobOr404(c.req.param("job"));
    const id = c.req.param("execution");
    const e = deps.executionsOf(job.name).find((x) => x.id === id);
    if (!e) throw notFound(`execution "${id}" of job "${job.name}" not found`);
    return sendJson(
      c,
      200,
      toApiExecution(e, deps.executionOutput(job.name, id) ?? e.output_tail),
    );
  });

  app.post("/v1/jobs/:job/executions/:execution/kill", async (c) => {
    const job = getJobOr404(c.req.param("job"));
    const id = c.req.param("execution");
    const before = deps.executionsOf(job.name).find((x) => x.id === id);
    if (!before) throw notFound(`execution "${id}" of job "${job.name}" not found`);
    await deps.killExecution(job.name, id);
    // Killed: answer with the finished record, or the last one seen if retention removed it.
    const e = deps.executionsOf(job.name).find((x) => x.id === id) ?? before;
    return sendJson(
      c,
      200,
      toApiExecution(e, deps.executionOutput(job.name, id) ?? e.output_tail),
    );
  });

  app.get("/v1/busy", (c) => {
    // With the output so far, as Dkron's Busy page shows it.
    const running = deps.runningExecutions().map((e) =>
      toApiExecution(e, deps.executionOutput(e.job_name, e.id) ?? e.output_tail)
    );
    return sendJson(c, 200, running, { "X-Total-Count": String(running.length) });
  });

  app.get("/v1/pause", (c) => sendJson(c, 200, { paused: state.paused }));
  app.post("/v1/pause", (c) => {
    state.paused = true;
    return sendJson(c, 200, { paused: true });
  });
  app.post("/v1/unpause", (c) => {
    state.paused = false;
    return sendJson(c, 200, { paused: false });
  });

  app.post("/v1/restore", async (c) => {
    const form = await c.req.formData().catch((e) => {
      throw invalid(`restore expects a multipart form with a "file" field: ${errorMessage(e)}`);
    });
    const file = form.get("file");
    if (file === null) throw notFound(`restore: no "file" field in the form`);
    const size = typeof file === "string" ? new TextEncoder().encode(file).length : file.size;
    if (size > limits.restoreBodyBytesMax) {
      throw new TockError(
        "too_large",
        `restore file is ${size} bytes, above the limit ${limits.restoreBodyBytesMax}`,
      );
    }
    const text = typeof file === "string" ? file : await file.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw invalid(`restore file is not valid JSON: ${errorMessage(e)}`);
    }
    if (!Array.isArray(parsed)) throw invalid("restore file must hold a JSON array of jobs");
    const jobs = parsed.map((b, i) => {
      try {
        const j = parseJobBody(b);
        validateJob(j, deps.checkExecutor);
        return { job: j, body: b as Record<string, unknown> };
      } catch (e) {
        throw invalid(`restore: job #${i}: ${errorMessage(e)}`);
      }
    });
    const names = new Set(jobs.map((j) => j.job.name));
    for (const { job } of jobs) {
      if (job.parent_job !== "" && !names.has(job.parent_job)) {
        throw invalid(
          `restore: job "${job.name}" has parent "${job.parent_job}", which is not in the file`,
        );
      }
    }
    // Parents first: repeatedly create the jobs whose parent is done; children of a failed parent are skipped.
    const lines: string[] = [];
    const done = new Set<string>();
    const failed = new Set<string>();
    let pending = jobs;
    while (pending.length > 0) {
      const ready = pending.filter(({ job }) =>
        job.parent_job === "" || done.has(job.parent_job) || failed.has(job.parent_job)
      );
      if (ready.length === 0) {
        for (const { job } of pending) lines.push(`fail create ${job.name}`);
        break;
      }
      for (const { job, body } of ready) {
        if (job.parent_job !== "" && failed.has(job.parent_job)) {
          failed.add(job.name);
          lines.push(`fail create ${job.name}`);
          continue;
        }
        try {
          await upsert(body);
          done.add(job.name);
          lines.push(`success create ${job.name}`);
        } catch (e) {
          failed.add(job.name);
          lines.push(`fail create ${job.name}`);
          console.error(`tock: restore of "${job.name}" failed: ${errorMessage(e)}`);
        }
      }
      pending = pending.filter((p) => !ready.includes(p));
    }
    // Dkron double-encodes this response: a JSON string holding a JSON array.
    return sendJson(c, 200, JSON.stringify(lines));
  });
}

/** `@at` in the past on create would never fire: refuse it instead of storing a dead job. */
function refuseAtInPast(job: Job, nowMs: number): void {
  const schedule = scheduleOf(job);
  if (!schedule) return;
  try {
    validateAtNotPast(schedule, nowMs);
  } catch (e) {
    throw invalid(`Job validation failed: ${errorMessage(e)}.`);
  }
}

function opt<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

function executionSortKey(sort: string): (e: Execution) => number {
  switch (sort) {
    case "":
    case "id":
    case "started_at":
      return (e) => e.started_at ?? e.group;
    case "finished_at":
      return (e) => e.finished_at ?? 0;
    case "attempt":
      return (e) => e.attempt;
    default:
      throw invalid(
        `query parameter _sort "${sort}" is not sortable; use one of id, started_at, finished_at, attempt`,
      );
  }
}

function statusBody(deps: ApiDeps) {
  const members = deps.members();
  return {
    agent: { name: deps.nodeName, version: deps.version },
    serf: deps.clusterOps?.serf() ?? {
      members: String(members.length),
      failed: String(members.filter((m) => m.Status === 4).length),
      left: String(members.filter((m) => m.Status === 3).length),
      encrypted: "false",
    },
    tags: deps.tags,
    ...(deps.clusterOps === undefined ? {} : { raft: deps.clusterOps.raft() }),
  };
}
