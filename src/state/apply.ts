/**
 * apply(): the replicated state machine. Deterministic and pure over the StateStore port: the
 * same commands in the same order give the same state on every replica. Preconditions are all
 * checked before the first write, so a refused command changes nothing.
 */
import { assertNever, conflict, invalid, limits, notFound, type TockError } from "../lib/mod.ts";
import { applyAcl } from "./acl.ts";
import type { Command } from "./commands.ts";
import type { Execution } from "./execution.ts";
import type { Job } from "./job.ts";
import type { StateStore } from "./store_port.ts";

export type ApplyResult =
  | { ok: true; job?: Job; execution?: Execution }
  | { ok: false; error: TockError };

export function apply(store: StateStore, cmd: Command): ApplyResult {
  try {
    switch (cmd.type) {
      case "job.upsert":
        return { ok: true, job: upsertJob(store, cmd.job) };
      case "job.delete":
        return { ok: true, job: deleteJob(store, cmd.name) };
      case "job.toggle":
        return { ok: true, job: toggleJob(store, cmd.name, cmd.next) };
      case "execution.start":
        return { ok: true, execution: startExecution(store, cmd.execution) };
      case "execution.finish":
        return { ok: true, ...finishExecution(store, cmd.execution) };
      case "fire":
        return { ok: true, ...fire(store, cmd.job, cmd.slot, cmd.next, cmd.executions) };
      case "execution.renew":
        return { ok: true, execution: renew(store, cmd.job, cmd.id, cmd.leaseUntil) };
      case "executions.clear":
        return { ok: true, job: clearExecutions(store, cmd.job) };
      case "acl.bootstrap":
      case "acl.token.create":
      case "acl.token.delete":
      case "acl.policy.upsert":
      case "acl.policy.delete":
      case "audit.append":
        applyAcl(store.acl, cmd);
        return { ok: true };
      default:
        return assertNever(cmd, "command");
    }
  } catch (e) {
    if (e instanceof Error && e.name === "TockError") return { ok: false, error: e as TockError };
    throw e;
  }
}

function mustGetJob(store: StateStore, name: string): Job {
  const job = store.getJob(name);
  if (!job) throw notFound(`job "${name}" not found`);
  return job;
}

const later = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.max(a, b);

/** Walks up from `parent`; a path back to `name` would close a cycle. */
function assertNoCycle(store: StateStore, name: string, parent: string): void {
  const seen: string[] = [name];
  let cur: string = parent;
  for (let depth = 0; cur !== ""; depth++) {
    if (cur === name) {
      throw invalid(
        `Job validation failed: parent_job "${parent}" would create a cycle: ${
          [...seen, name].join(" -> ")
        }.`,
      );
    }
    if (depth >= limits.chainDepthMax) {
      throw invalid(
        `Job validation failed: parent chain of "${name}" is deeper than ${limits.chainDepthMax}.`,
      );
    }
    seen.push(cur);
    cur = store.getJob(cur)?.parent_job ?? "";
  }
}

function upsertJob(store: StateStore, submitted: Job): Job {
  const stored = store.getJob(submitted.name);
  if (submitted.parent_job !== "") {
    if (!store.getJob(submitted.parent_job)) {
      throw notFound(`specified parent job not found: "${submitted.parent_job}"`);
    }
    assertNoCycle(store, submitted.name, submitted.parent_job);
  }
  if (!stored && store.countJobs() >= limits.jobsMax) {
    throw invalid(
      `cannot create job "${submitted.name}": the cluster holds ${limits.jobsMax} jobs, the limit`,
    );
  }
  const job: Job = { ...submitted };
  if (stored) {
    // Runtime fields cannot be reset by an update (Dkron store.SetJob).
    job.last_success = later(stored.last_success, submitted.last_success);
    job.last_error = later(stored.last_error, submitted.last_error);
    job.success_count = Math.max(stored.success_count, submitted.success_count);
    job.error_count = Math.max(stored.error_count, submitted.error_count);
    if (stored.status !== "") job.status = stored.status;
    job.dependent_jobs = stored.dependent_jobs;
    job.fired_through = stored.fired_through;
    if (stored.parent_job !== "" && stored.parent_job !== job.parent_job) {
      const old = store.getJob(stored.parent_job);
      if (old) {
        const rest = (old.dependent_jobs ?? []).filter((d) => d !== job.name);
        store.putJob({ ...old, dependent_jobs: rest.length > 0 ? rest : null });
      }
    }
  } else {
    // Children are maintained by the server; a new job has none yet.
    job.dependent_jobs = null;
  }
  if (job.parent_job !== "" && stored?.parent_job !== job.parent_job) {
    const parent = mustGetJob(store, job.parent_job);
    const deps = parent.dependent_jobs ?? [];
    if (!deps.includes(job.name)) store.putJob({ ...parent, dependent_jobs: [...deps, job.name] });
  }
  store.putJob(job);
  return job;
}

function deleteJob(store: StateStore, name: string): Job {
  const job = mustGetJob(store, name);
  const children = job.dependent_jobs ?? [];
  if (children.length > 0) {
    throw conflict(
      `cannot delete job "${name}": it has dependent jobs (${
        children.join(", ")
      }); delete children first`,
    );
  }
  if (job.parent_job !== "") {
    const parent = store.getJob(job.parent_job);
    if (parent) {
      const rest = (parent.dependent_jobs ?? []).filter((d) => d !== name);
      store.putJob({ ...parent, dependent_jobs: rest.length > 0 ? rest : null });
    }
  }
  store.deleteExecutions(name);
  store.deleteJob(name);
  return job;
}

function toggleJob(store: StateStore, name: string, next: number | null): Job {
  const job = mustGetJob(store, name);
  job.disabled = !job.disabled;
  job.next = job.disabled ? job.next : next;
  store.putJob(job);
  return job;
}

function startExecution(store: StateStore, e: Execution): Execution {
  mustGetJob(store, e.job_name);
  const existing = store.getExecution(e.job_name, e.id);
  if (existing) {
    throw conflict(
      `execution "${e.id}" of job "${e.job_name}" already exists (status ${existing.status})`,
    );
  }
  store.putExecution(e);
  store.trimExecutions(e.job_name, limits.executionsPerJobMax);
  return e;
}

function finishExecution(store: StateStore, e: Execution): { job: Job; execution: Execution } {
  const job = store.getJob(e.job_name);
  if (!job) throw notFound(`received execution done for a deleted job "${e.job_name}"`);
  const existing = store.getExecution(e.job_name, e.id);
  if (existing && existing.status !== "running") {
    throw conflict(
      `execution "${e.id}" of job "${e.job_name}" already finished (${existing.status})`,
    );
  }
  const finishedAt = e.finished_at ?? e.started_at;
  if (e.success) {
    job.success_count++;
    job.last_success = later(job.last_success, finishedAt);
    job.status = "success";
  } else {
    job.error_count++;
    job.last_error = later(job.last_error, finishedAt);
    job.status = "failed";
  }
  store.putExecution(e);
  store.putJob(job);
  store.trimExecutions(e.job_name, limits.executionsPerJobMax);
  return { job, execution: e };
}

function fire(
  store: StateStore,
  name: string,
  slot: number,
  next: number | null,
  executions: Execution[],
): { job: Job; execution?: Execution } {
  const job = mustGetJob(store, name);
  if (job.fired_through !== null && slot <= job.fired_through) {
    throw conflict(
      `slot ${slot} of job "${name}" already fired (fired through ${job.fired_through})`,
    );
  }
  for (const e of executions) {
    if (e.job_name !== name) {
      throw invalid(`fire of "${name}" carries an execution of "${e.job_name}"`);
    }
    if (store.getExecution(name, e.id)) {
      throw conflict(`execution "${e.id}" of job "${name}" already exists`);
    }
  }
  job.fired_through = slot;
  job.next = next;
  store.putJob(job);
  for (const e of executions) store.putExecution(e);
  store.trimExecutions(name, limits.executionsPerJobMax);
  const running = executions.find((e) => e.status === "running");
  return running ? { job, execution: running } : { job };
}

function renew(store: StateStore, name: string, id: string, leaseUntil: number): Execution {
  const e = store.getExecution(name, id);
  if (!e) throw notFound(`execution "${id}" of job "${name}" not found`);
  if (e.status !== "running") {
    throw conflict(
      `execution "${id}" of job "${name}" is ${e.status}, its lease cannot be renewed`,
    );
  }
  e.lease_until = Math.max(e.lease_until ?? 0, leaseUntil);
  store.putExecution(e);
  return e;
}

/** Clears the job's history; running executions stay (their runs go on and finish normally). */
function clearExecutions(store: StateStore, name: string): Job {
  const job = mustGetJob(store, name);
  store.deleteFinishedExecutions(name);
  job.success_count = 0;
  job.error_count = 0;
  job.last_success = null;
  job.last_error = null;
  // The status summarised the cleared history; with none left the job is untriggered again.
  job.status = "";
  store.putJob(job);
  return job;
}
