/**
 * The job model: Dkron's 26 JSON fields (reference/dkron.md §2.1), parsed and validated from
 * untrusted input. Pure: the caller passes the executor check and nothing reads the clock.
 */
import {
  invalid,
  limits,
  parseGoDuration,
  parseNullableTime,
  rfc3339,
  zeroTime,
} from "../lib/mod.ts";
import { parseSchedule } from "../schedule/mod.ts";

export type StringMap = Record<string, string>;

/** A stored job. Times are epoch milliseconds or null; the API renders them as RFC3339. */
export interface Job {
  name: string;
  displayname: string;
  timezone: string;
  schedule: string;
  owner: string;
  owner_email: string;
  success_count: number;
  error_count: number;
  last_success: number | null;
  last_error: number | null;
  disabled: boolean;
  tags: StringMap | null;
  metadata: StringMap | null;
  retries: number;
  dependent_jobs: string[] | null;
  parent_job: string;
  processors: Record<string, StringMap>;
  concurrency: string;
  executor: string;
  executor_config: StringMap | null;
  status: string;
  next: number | null;
  ephemeral: boolean;
  starts_at: number | null;
  expires_at: number | null;
  // ---- Tock-only fields (beside Dkron's) ----
  /** What to do with slots missed while no scheduler ran: skip | run_once | run_all. */
  misfire_policy: string;
  /** Go duration: a missed slot older than this is never run late, only recorded missed. */
  starting_deadline: string;
  /** Go duration before the first retry; doubles per attempt up to retry_delay_max. */
  retry_delay: string;
  retry_delay_max: string;
  /** Internal: the latest slot already fired (or recorded missed); a slot fires at most once. */
  fired_through: number | null;
}

/** The JSON shape of a job on the Dkron-compatible API, fields in Dkron's order. */
export interface ApiJob {
  id: string;
  name: string;
  displayname: string;
  timezone: string;
  schedule: string;
  owner: string;
  owner_email: string;
  success_count: number;
  error_count: number;
  last_success: string | null;
  last_error: string | null;
  disabled: boolean;
  tags: StringMap | null;
  metadata: StringMap | null;
  retries: number;
  dependent_jobs: string[] | null;
  parent_job: string;
  processors: Record<string, StringMap>;
  concurrency: string;
  executor: string;
  executor_config: StringMap | null;
  status: string;
  next: string;
  ephemeral: boolean;
  starts_at: string | null;
  expires_at: string | null;
  misfire_policy: string;
  starting_deadline: string;
  retry_delay: string;
  retry_delay_max: string;
}

export const concurrencyPolicies = ["allow", "forbid", "replace"] as const;
export const misfirePolicies = ["skip", "run_once", "run_all"] as const;
/** Defaults of the Tock-only fields. */
export const jobDefaults = {
  misfire_policy: "run_once",
  starting_deadline: "1h",
  retry_delay: "1s",
  retry_delay_max: "5m",
} as const;

/**
 * Checks an executor name and config, and the job's processors (names lower-case); returns an
 * error message, or undefined when valid.
 */
export type ExecutorCheck = (
  executor: string,
  config: StringMap,
  processors: Record<string, StringMap>,
) => string | undefined;

const nullableTime = (ms: number | null): string | null => (ms === null ? null : rfc3339(ms));

export function toApiJob(job: Job, id: string = job.name): ApiJob {
  return {
    id,
    name: job.name,
    displayname: job.displayname,
    timezone: job.timezone,
    schedule: job.schedule,
    owner: job.owner,
    owner_email: job.owner_email,
    success_count: job.success_count,
    error_count: job.error_count,
    last_success: nullableTime(job.last_success),
    last_error: nullableTime(job.last_error),
    disabled: job.disabled,
    tags: job.tags,
    metadata: job.metadata,
    retries: job.retries,
    dependent_jobs: job.dependent_jobs,
    parent_job: job.parent_job,
    processors: job.processors,
    concurrency: job.concurrency,
    executor: job.executor,
    executor_config: job.executor_config,
    status: job.status,
    next: job.next === null ? zeroTime : rfc3339(job.next),
    ephemeral: job.ephemeral,
    starts_at: nullableTime(job.starts_at),
    expires_at: nullableTime(job.expires_at),
    misfire_policy: job.misfire_policy,
    starting_deadline: job.starting_deadline,
    retry_delay: job.retry_delay,
    retry_delay_max: job.retry_delay_max,
  };
}

// ---- parsing: type errors are "Unable to parse payload: ..." as in Dkron ----

const payloadError = (msg: string) => invalid(`Unable to parse payload: ${msg}.`);
const validationError = (msg: string) => invalid(`Job validation failed: ${msg}.`);

function str(body: Record<string, unknown>, field: string, max = limits.fieldCharsMax): string {
  const v = body[field];
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") {
    throw payloadError(`field "${field}" must be a string, got ${typeName(v)}`);
  }
  if (v.length > max) throw payloadError(`field "${field}" is longer than ${max} characters`);
  return v;
}

function bool(body: Record<string, unknown>, field: string): boolean {
  const v = body[field];
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") {
    throw payloadError(`field "${field}" must be a boolean, got ${typeName(v)}`);
  }
  return v;
}

function uint(body: Record<string, unknown>, field: string, max: number): number {
  const v = body[field];
  if (v === undefined || v === null) return 0;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw payloadError(`field "${field}" must be a non-negative integer, got ${JSON.stringify(v)}`);
  }
  if (v > max) throw payloadError(`field "${field}" is ${v}, above the limit ${max}`);
  return v;
}

function stringMap(
  value: unknown,
  field: string,
  valueMax = limits.fieldCharsMax,
): StringMap | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw payloadError(`field "${field}" must be an object of strings, got ${typeName(value)}`);
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > limits.mapEntriesMax) {
    throw payloadError(
      `field "${field}" has ${entries.length} entries, above the limit ${limits.mapEntriesMax}`,
    );
  }
  const out: StringMap = {};
  for (const [k, v] of entries) {
    if (typeof v !== "string") {
      throw payloadError(`field "${field}.${k}" must be a string, got ${typeName(v)}`);
    }
    if (k.length > limits.fieldCharsMax || v.length > valueMax) {
      throw payloadError(`field "${field}.${k}" is too long`);
    }
    out[k] = v;
  }
  return out;
}

function time(body: Record<string, unknown>, field: string): number | null {
  try {
    return parseNullableTime(field, body[field]);
  } catch (e) {
    throw payloadError((e as Error).message);
  }
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

/** Parses an untrusted JSON body into a Job (runtime fields taken as sent) or throws invalid. */
export function parseJobBody(body: unknown): Job {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw payloadError(`the body must be a JSON object describing a job, got ${typeName(body)}`);
  }
  const b = body as Record<string, unknown>;
  const deps = b["dependent_jobs"];
  if (
    deps !== undefined && deps !== null &&
    (!Array.isArray(deps) || deps.some((d) => typeof d !== "string"))
  ) {
    throw payloadError(`field "dependent_jobs" must be an array of strings`);
  }
  const procs = b["processors"];
  const processors: Record<string, StringMap> = {};
  if (procs !== undefined && procs !== null) {
    if (typeof procs !== "object" || Array.isArray(procs)) {
      throw payloadError(`field "processors" must be an object of objects`);
    }
    for (const [name, cfg] of Object.entries(procs as Record<string, unknown>)) {
      // Processor names are case-insensitive: stored lower-case, so "Log" and "log" collide.
      const key = name.toLowerCase();
      if (key in processors) throw payloadError(`processor "${name}" is given twice`);
      processors[key] = stringMap(cfg, `processors.${name}`) ?? {};
    }
  }
  const next = b["next"];
  let nextMs: number | null = null;
  if (typeof next === "string" && next !== zeroTime) nextMs = time(b, "next");
  else if (next !== undefined && next !== null && typeof next !== "string") {
    throw payloadError(`field "next" must be a string time`);
  }
  return {
    name: str(b, "name", limits.jobNameCharsMax),
    displayname: str(b, "displayname"),
    timezone: str(b, "timezone"),
    schedule: str(b, "schedule", limits.scheduleCharsMax),
    owner: str(b, "owner"),
    owner_email: str(b, "owner_email"),
    success_count: uint(b, "success_count", Number.MAX_SAFE_INTEGER),
    error_count: uint(b, "error_count", Number.MAX_SAFE_INTEGER),
    last_success: time(b, "last_success"),
    last_error: time(b, "last_error"),
    disabled: bool(b, "disabled"),
    tags: stringMap(b["tags"], "tags"),
    metadata: stringMap(b["metadata"], "metadata"),
    retries: uint(b, "retries", limits.retriesMax),
    dependent_jobs: (deps as string[] | null | undefined) ?? null,
    parent_job: str(b, "parent_job", limits.jobNameCharsMax),
    processors,
    concurrency: b["concurrency"] === undefined ? "allow" : str(b, "concurrency"),
    // Dkron never checks the case ("Shell" in its Go client's README): stored canonical, lower.
    executor: str(b, "executor").toLowerCase(),
    executor_config: stringMap(b["executor_config"], "executor_config", limits.configValueCharsMax),
    status: str(b, "status"),
    next: nextMs,
    ephemeral: bool(b, "ephemeral"),
    starts_at: time(b, "starts_at"),
    expires_at: time(b, "expires_at"),
    misfire_policy: str(b, "misfire_policy") || jobDefaults.misfire_policy,
    starting_deadline: str(b, "starting_deadline") || jobDefaults.starting_deadline,
    retry_delay: str(b, "retry_delay") || jobDefaults.retry_delay,
    retry_delay_max: str(b, "retry_delay_max") || jobDefaults.retry_delay_max,
    fired_through: null,
  };
}

const illegalNameChar = /[^\p{Ll}0-9_-]/u;

/**
 * True when the zone is "", "Local", "UTC" or an IANA zone name the runtime's ICU data knows,
 * spelled as Go's time.LoadLocation needs it: exact case, no UTC offsets ("+02:00"), which ICU
 * would accept and Dkron refuses.
 */
export function timezoneExists(tz: string): boolean {
  if (tz === "" || tz === "Local" || tz === "UTC") return true;
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(tz)) return false;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return false;
  }
  // ICU matches names case-insensitively; an alias may resolve to its canonical name.
  return resolved === tz || resolved.toLowerCase() !== tz.toLowerCase();
}

/**
 * Dkron's Job.Validate (§2.2) in its order, plus Tock's stricter rules: the executor must be
 * known and its config valid. Structural rules (parent exists, cycles) need the store and are
 * checked by apply().
 */
export function validateJob(job: Job, checkExecutor: ExecutorCheck): void {
  if (job.name === "") throw validationError("name cannot be empty");
  const bad = illegalNameChar.exec(job.name);
  if (bad) throw validationError(`name contains illegal character '${bad[0]}'`);
  if (job.parent_job === job.name) throw validationError("the job can not have itself as parent");
  if (job.schedule !== "" || job.parent_job === "") {
    if (job.schedule === "") throw validationError("can't parse job schedule: empty spec string");
    try {
      parseSchedule(job.schedule, {
        jobName: job.name,
        timezone: timezoneExists(job.timezone) ? job.timezone : "",
      });
    } catch (e) {
      throw validationError(`can't parse job schedule: ${(e as Error).message}`);
    }
  }
  if (
    job.concurrency !== "" && !(concurrencyPolicies as readonly string[]).includes(job.concurrency)
  ) {
    throw validationError(
      `invalid concurrency policy value "${job.concurrency}", use "allow", "forbid" or "replace"`,
    );
  }
  if (!(misfirePolicies as readonly string[]).includes(job.misfire_policy)) {
    throw validationError(
      `invalid misfire_policy "${job.misfire_policy}", use "skip", "run_once" or "run_all"`,
    );
  }
  for (const field of ["starting_deadline", "retry_delay", "retry_delay_max"] as const) {
    let ms: number;
    try {
      ms = parseGoDuration(job[field]);
    } catch (e) {
      throw validationError(`${field}: ${(e as Error).message}`);
    }
    if (ms < 0 || ms > limits.jobDurationFieldMsMax) {
      throw validationError(`${field} "${job[field]}" must be between 0s and 720h`);
    }
  }
  if (parseGoDuration(job.retry_delay) > parseGoDuration(job.retry_delay_max)) {
    throw validationError(
      `retry_delay "${job.retry_delay}" is longer than retry_delay_max "${job.retry_delay_max}"`,
    );
  }
  if (!timezoneExists(job.timezone)) {
    throw validationError(
      `field "timezone": unknown time zone ${job.timezone} (IANA names are case-sensitive, as "Europe/Berlin"; a UTC offset is not a zone)`,
    );
  }
  const config = job.executor_config ?? {};
  if (job.executor === "shell" && config["timeout"]) {
    try {
      parseGoDuration(config["timeout"]);
    } catch (e) {
      throw validationError(
        `Error parsing job timeout value: executor_config.timeout ${(e as Error).message}`,
      );
    }
  }
  if (job.executor === "") {
    throw validationError('executor cannot be empty (e.g. "shell" or "http")');
  }
  const problem = checkExecutor(job.executor, config, job.processors);
  if (problem !== undefined) throw validationError(problem);
  if (job.parent_job !== "" && illegalNameChar.test(job.parent_job)) {
    throw validationError(`parent_job "${job.parent_job}" is not a valid job name`);
  }
}
