/**
 * The access-control layer in front of every handler: an HTTP middleware that identifies the
 * caller and checks the route table, a Connect interceptor that checks per method (it sees the
 * message), ApiDeps wrapped so lists show only what the caller may see and every job write is
 * checked again at the propose door, and one audit entry per write.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Context, MiddlewareHandler } from "hono";
import {
  allows,
  type AuditInput,
  connectMethods,
  connectNeed,
  describeNeed,
  type Identity,
  type JobCapability,
  type Need,
  routeNeed,
  whoIs,
} from "../acl/mod.ts";
import { errorMessage, isTockError, TockError } from "../lib/mod.ts";
import type { AclStore, Command } from "../state/mod.ts";
import { identify, presentedSecret } from "./acl_auth.ts";
import type { ApiDeps } from "./deps.ts";
import { httpStatus } from "./errors.ts";

export interface AclOptions {
  /** ACLs on: every non-public request needs a token. Off: everyone is allowed (loopback). */
  enabled: boolean;
  /** Read side of the replicated ACL state (writes go through propose). */
  store: AclStore;
  /** Where the one-JSON-line-per-write audit log goes (default: stdout, the server log). */
  log?: (line: string) => void;
  /**
   * A file whose content, when it equals the cluster's bootstrap index, allows one more bootstrap
   * through this node (recovery of a lost management token, as Nomad's reset file).
   */
  bootstrapResetFile?: string;
  /** Audit retention (defaults and ceilings: limits.auditEntriesMax, auditRetentionMs). */
  auditKeep?: number;
  auditMaxAgeMs?: number;
}

/** Per-request facts the handlers' wrapped ports and the audit entry read. */
interface RequestCtx {
  identity: Identity | undefined;
  /** Why the identity is missing (shown by the Connect interceptor as Unauthenticated). */
  authError: TockError | undefined;
  /** The job the request touched, for the audit entry. */
  job: string;
  /** Whether the request is a write (audited). */
  write: boolean;
  action: string;
}

const requests = new AsyncLocalStorage<RequestCtx>();

/** A request without a token on a public route: it may do nothing through the guarded ports. */
const anonymous: Identity = { kind: "client", accessor: "", name: "anonymous", policies: [] };

/**
 * The identity of the request being handled: open outside any request (internal calls), and
 * anonymous (no rights) for a request that presented no valid token.
 */
export function currentIdentity(): Identity {
  const ctx = requests.getStore();
  if (ctx === undefined) return { kind: "open" };
  return ctx.identity ?? anonymous;
}

function forbidden(id: Identity, need: Need): TockError {
  const who = whoIs(id);
  return new TockError(
    "forbidden",
    `permission denied: token "${who.name}" (${who.accessor}) lacks ${describeNeed(need)}`,
  );
}

const auditedCaps: ReadonlySet<JobCapability> = new Set(["write", "run", "kill", "delete"]);

export function aclMiddleware(
  options: AclOptions,
  propose: ApiDeps["propose"],
  nowMs: () => number,
): MiddlewareHandler {
  return async (c, next) => {
    const method = c.req.method;
    const path = c.req.path;
    const { need, rule } = routeNeed(method, path);
    const ctx: RequestCtx = {
      identity: undefined,
      authError: undefined,
      job: need.kind === "job" && need.job !== null ? need.job : "",
      write: need.kind === "connect"
        ? isConnectWrite(path)
        : !["GET", "HEAD", "OPTIONS"].includes(method),
      action: `${method} ${rule?.path ?? path}`,
    };
    if (need.kind === "connect") ctx.action = path.slice(1);
    if (!options.enabled) ctx.identity = { kind: "open" };
    else if (need.kind !== "public") {
      try {
        ctx.identity = identify(options.store, presentedSecret(c.req.raw.headers));
      } catch (e) {
        if (!isTockError(e)) throw e;
        ctx.authError = e;
      }
    }
    // Duration only (never compared with the clock): a monotonic reading, taken without the port.
    const started = performance.now();
    let denied: TockError | undefined;
    if (need.kind !== "public" && need.kind !== "connect") {
      if (ctx.identity === undefined) denied = ctx.authError;
      else if (!allows(ctx.identity, need)) denied = forbidden(ctx.identity, need);
    }
    if (denied !== undefined) {
      c.res = errorResponse(denied);
    } else {
      await requests.run(ctx, () => next());
    }
    if (ctx.write) {
      // The answer is final: a failing audit is reported, never turned into the response.
      await audit(c, ctx, started, options, propose, nowMs).catch((e) =>
        console.error(`tock: audit of ${ctx.action} failed: ${errorMessage(e)}`)
      );
    }
  };
}

function errorResponse(e: TockError): Response {
  const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
  if (e.kind === "unauthenticated") headers["WWW-Authenticate"] = 'Bearer realm="tock"';
  return new Response(JSON.stringify({ error: e.message }), {
    status: httpStatus(e.kind),
    headers,
  });
}

function isConnectWrite(path: string): boolean {
  const method = path.slice(path.lastIndexOf("/") + 1);
  const m = connectMethods[method];
  return m === undefined || auditedCaps.has(m.cap);
}

/**
 * One JSON line to the server log for every write, and an entry in replicated state for every
 * write by a known caller (an unauthenticated flood must not grow the replicated log). Runs
 * after the response is final; a failed audit append is logged, never turned into the answer.
 */
async function audit(
  c: Context,
  ctx: RequestCtx,
  started: number,
  options: AclOptions,
  propose: ApiDeps["propose"],
  nowMs: () => number,
): Promise<void> {
  const status = c.res.status;
  let error = "";
  if (status >= 400) {
    try {
      const body = await c.res.clone().json() as { error?: unknown; message?: unknown };
      error = String(body.error ?? body.message ?? "");
    } catch { /* not JSON: no message */ }
  }
  const who = whoIs(ctx.identity ?? { kind: "open" });
  const env = c.env as { remoteAddress?: string } | undefined;
  const entry: AuditInput = {
    at: nowMs(),
    accessor: who.accessor,
    token_name: ctx.identity === undefined ? "unauthenticated" : who.name,
    action: ctx.action,
    job: ctx.job,
    remote: env?.remoteAddress ?? c.req.header("x-forwarded-for") ?? "",
    status,
    error,
  };
  const ms = Math.round(performance.now() - started);
  (options.log ?? console.log)(JSON.stringify({ audit: { ...entry, ms } }));
  if (ctx.identity === undefined) return;
  if (!options.enabled && ctx.action === "POST /v1/acl/bootstrap") return;
  propose({
    type: "audit.append",
    entry,
    ...(options.auditKeep === undefined ? {} : { keep: options.auditKeep }),
    ...(options.auditMaxAgeMs === undefined ? {} : { maxAgeMs: options.auditMaxAgeMs }),
  }).catch((e) => console.error(`tock: audit append failed: ${errorMessage(e)}`));
}

/** Connect interceptor: Unauthenticated without a valid token, PermissionDenied without the right. */
export function aclInterceptor(): Interceptor {
  return (next) => async (req) => {
    const ctx = requests.getStore();
    // Outside the middleware (a test mounting the router alone) there is no ACL to apply.
    if (ctx === undefined) return await next(req);
    if (ctx.identity === undefined) {
      throw new ConnectError(
        ctx.authError?.message ?? "ACL token required",
        Code.Unauthenticated,
      );
    }
    const method = req.method.name;
    const rule = connectMethods[method];
    let message: unknown;
    if (!req.stream) message = req.message;
    else if (rule?.field != null) {
      // Server-streaming: the single request message is the first of the stream; put it back.
      const it = req.message[Symbol.asyncIterator]();
      const first = await it.next();
      message = first.value;
      req = {
        ...req,
        message: (async function* () {
          if (!first.done) yield first.value;
          for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
        })(),
      };
    }
    const job = rule?.field == null ? "" : fieldOf(message, rule.field);
    ctx.job = job;
    const need = connectNeed(method, job);
    if (!allows(ctx.identity, need)) {
      throw new ConnectError(forbidden(ctx.identity, need).message, Code.PermissionDenied);
    }
    return await next(req);
  };
}

function fieldOf(message: unknown, field: string): string {
  let v: unknown = message;
  for (const k of field.split(".")) v = (v as Record<string, unknown> | undefined)?.[k];
  return typeof v === "string" ? v : "";
}

/**
 * ApiDeps as seen by one request: job lists filtered to what the caller may list, running
 * executions to what it may read, and every job-changing command checked at the propose door
 * (so restore and any future handler cannot bypass the route check). Sets a job's owner from
 * the token when the job has none.
 */
export function guardDeps(deps: ApiDeps): ApiDeps {
  const need = (cap: JobCapability, job: string): void => {
    const id = currentIdentity();
    const n: Need = { kind: "job", cap, job };
    if (!allows(id, n)) throw forbidden(id, n);
    const ctx = requests.getStore();
    if (ctx !== undefined && ctx.job === "") ctx.job = job;
  };
  const may = (cap: JobCapability, job: string) =>
    allows(currentIdentity(), { kind: "job", cap, job });
  return {
    ...deps,
    propose: (cmd: Command) => {
      try {
        const checked = checkCommand(cmd, need);
        return deps.propose(checked);
      } catch (e) {
        return Promise.reject(e);
      }
    },
    allJobs: () => [...deps.allJobs()].filter((j) => may("list", j.name)),
    // Open (ACL off): the store's kept array as is, so a 100k-job list by name copies nothing.
    jobsByName: () =>
      currentIdentity().kind === "open"
        ? deps.jobsByName()
        : deps.jobsByName().filter((j) => may("list", j.name)),
    runningExecutions: () => deps.runningExecutions().filter((e) => may("read", e.job_name)),
    runJob: (name, force) => {
      try {
        need("run", name);
      } catch (e) {
        return Promise.reject(e);
      }
      return deps.runJob(name, force);
    },
    killExecution: (job, id) => {
      try {
        need("kill", job);
      } catch (e) {
        return Promise.reject(e);
      }
      return deps.killExecution(job, id);
    },
  };
}

function checkCommand(cmd: Command, need: (cap: JobCapability, job: string) => void): Command {
  switch (cmd.type) {
    case "job.upsert": {
      need("write", cmd.job.name);
      const id = currentIdentity();
      if (cmd.job.owner === "" && id.kind !== "open") {
        return { ...cmd, job: { ...cmd.job, owner: id.name } };
      }
      return cmd;
    }
    case "job.toggle":
      need("write", cmd.name);
      return cmd;
    case "job.delete":
      need("delete", cmd.name);
      return cmd;
    case "executions.clear":
      need("delete", cmd.job);
      return cmd;
    default: {
      // ACL administration from handlers is checked by the route table (management only).
      return cmd;
    }
  }
}
