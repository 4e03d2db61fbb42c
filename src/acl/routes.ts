/**
 * The route → capability table for REST and Connect. The HTTP middleware consults it for every
 * request; a route missing here needs a management token (deny by default), and the matrix test
 * fails for any registered route not listed, so a new route cannot be forgotten.
 */
import type { Need } from "./authorize.ts";
import type { JobCapability, OperatorArea } from "./policy.ts";

type NeedOf = (params: Record<string, string>) => Need;

const pub: NeedOf = () => ({ kind: "public" });
const token: NeedOf = () => ({ kind: "token" });
const mgmt: NeedOf = () => ({ kind: "management" });
const op = (area: OperatorArea): NeedOf => () => ({ kind: "operator", area });
/** A capability on the job named by the `:job` path parameter. */
const onJob = (cap: JobCapability): NeedOf => (p) => ({ kind: "job", cap, job: p["job"] ?? "" });
/** A capability on the job(s) named in the body: checked exactly again at the propose door. */
const onBodyJob = (cap: JobCapability): NeedOf => () => ({ kind: "job", cap, job: null });

export interface RouteRule {
  method: string;
  /** Hono-style: `:name` is one segment, a trailing `*` any rest. */
  path: string;
  need: NeedOf;
}

export const restRoutes: readonly RouteRule[] = [
  { method: "GET", path: "/health", need: pub },
  { method: "GET", path: "/", need: pub },
  { method: "GET", path: "/ui", need: pub },
  { method: "GET", path: "/ui/*", need: pub },
  { method: "GET", path: "/openapi.json", need: pub },
  { method: "GET", path: "/metrics", need: op("metrics") },
  // Dkron's expvar: holds every job (cron_entries), so it is an operator view.
  { method: "GET", path: "/debug/vars", need: op("metrics") },
  { method: "GET", path: "/v1", need: token },
  { method: "GET", path: "/v1/", need: token },
  { method: "GET", path: "/v1/members", need: op("members") },
  // The dashboard's cluster view (Connect, GET for reads): what /v1/members shows and more.
  { method: "GET", path: "/tock.v1.ClusterService/GetCluster", need: op("members") },
  { method: "POST", path: "/tock.v1.ClusterService/GetCluster", need: op("members") },
  { method: "GET", path: "/v1/leader", need: op("members") },
  { method: "GET", path: "/v1/isleader", need: token },
  { method: "POST", path: "/v1/leave", need: op("leave") },
  // Readiness is for load balancers, like liveness: no token.
  { method: "GET", path: "/health/ready", need: pub },
  { method: "GET", path: "/v1/raft/peers", need: op("members") },
  // Changing the Raft group is an operator's act on the whole cluster.
  { method: "DELETE", path: "/v1/raft/peers/:id", need: mgmt },
  { method: "POST", path: "/v1/raft/transfer-leader", need: mgmt },
  // The gossip keyring holds the cluster's encryption keys: listing shows them, so all is mgmt.
  { method: "GET", path: "/v1/keyring", need: mgmt },
  { method: "POST", path: "/v1/keyring", need: mgmt },
  { method: "PUT", path: "/v1/keyring", need: mgmt },
  { method: "DELETE", path: "/v1/keyring", need: mgmt },
  { method: "GET", path: "/v1/busy", need: token },
  { method: "GET", path: "/v1/pause", need: token },
  { method: "POST", path: "/v1/pause", need: op("pause") },
  { method: "POST", path: "/v1/unpause", need: op("pause") },
  { method: "POST", path: "/v1/restore", need: op("restore") },
  { method: "POST", path: "/v1/jobs", need: onBodyJob("write") },
  { method: "PATCH", path: "/v1/jobs", need: onBodyJob("write") },
  { method: "PUT", path: "/v1/jobs/:job", need: onBodyJob("write") },
  { method: "GET", path: "/v1/jobs", need: () => ({ kind: "job", cap: "list", job: null }) },
  { method: "GET", path: "/v1/jobs/:job", need: onJob("read") },
  { method: "DELETE", path: "/v1/jobs/:job", need: onJob("delete") },
  { method: "POST", path: "/v1/jobs/:job", need: onJob("run") },
  { method: "POST", path: "/v1/jobs/:job/run", need: onJob("run") },
  { method: "POST", path: "/v1/jobs/:job/toggle", need: onJob("write") },
  { method: "GET", path: "/v1/jobs/:job/next", need: onJob("read") },
  { method: "GET", path: "/v1/jobs/:job/executions", need: onJob("read") },
  { method: "DELETE", path: "/v1/jobs/:job/executions", need: onJob("delete") },
  { method: "GET", path: "/v1/jobs/:job/executions/:execution", need: onJob("read") },
  { method: "POST", path: "/v1/jobs/:job/executions/:execution/kill", need: onJob("kill") },
  { method: "POST", path: "/v1/acl/bootstrap", need: pub },
  { method: "GET", path: "/v1/acl/token/self", need: token },
  { method: "GET", path: "/v1/acl/tokens", need: mgmt },
  { method: "POST", path: "/v1/acl/tokens", need: mgmt },
  { method: "DELETE", path: "/v1/acl/tokens/:accessor", need: mgmt },
  { method: "GET", path: "/v1/acl/policies", need: mgmt },
  { method: "POST", path: "/v1/acl/policies", need: mgmt },
  { method: "GET", path: "/v1/acl/policies/:name", need: mgmt },
  { method: "DELETE", path: "/v1/acl/policies/:name", need: mgmt },
  { method: "GET", path: "/v1/audit", need: op("audit") },
];

/**
 * The Connect service whose methods the interceptor authorises (connectMethods). Any other
 * service mounted on the API port (Raft, a future UI service) needs a management token until it
 * is classified here: a new service cannot open a hole by being mounted.
 */
export const connectPathPrefix = "/tock.v1.JobService/";

/** Which message field names the job, and the capability each JobService method needs. */
export const connectMethods: Readonly<
  Record<string, { cap: JobCapability; field: "name" | "jobName" | "job.name" | null }>
> = {
  ListJobs: { cap: "list", field: null },
  GetJob: { cap: "read", field: "name" },
  UpsertJob: { cap: "write", field: "job.name" },
  DeleteJob: { cap: "delete", field: "name" },
  RunJob: { cap: "run", field: "name" },
  ToggleJob: { cap: "write", field: "name" },
  ListExecutions: { cap: "read", field: "jobName" },
  GetExecution: { cap: "read", field: "jobName" },
  KillExecution: { cap: "kill", field: "jobName" },
  GetNextRuns: { cap: "read", field: "name" },
  WatchExecution: { cap: "read", field: "jobName" },
  // The web UI's reads: lists of what the caller may list (the guard filters the jobs and the
  // running executions); GetActivity's counts and WatchChanges' revision are cluster-wide.
  ListRunningExecutions: { cap: "list", field: null },
  GetUpcoming: { cap: "list", field: null },
  GetActivity: { cap: "list", field: null },
  WatchChanges: { cap: "list", field: null },
};

/** The Need of a Connect method given its job field's value; unknown methods: management. */
export function connectNeed(method: string, job: string): Need {
  const m = connectMethods[method];
  if (m === undefined) return { kind: "management" };
  return { kind: "job", cap: m.cap, job: m.field === null ? null : job };
}

/**
 * The Need of a REST request. CORS preflights are public; Connect paths go to the interceptor;
 * anything not in the table needs a management token.
 */
export function routeNeed(method: string, path: string): { need: Need; rule?: RouteRule } {
  if (method === "OPTIONS") return { need: { kind: "public" } };
  if (path.startsWith(connectPathPrefix)) return { need: { kind: "connect" } };
  const m = method === "HEAD" ? "GET" : method;
  for (const rule of restRoutes) {
    if (rule.method !== m) continue;
    const params = matchPath(rule.path, path);
    if (params !== undefined) return { need: rule.need(params), rule };
  }
  return { need: { kind: "management" } };
}

/** Matches a Hono-style pattern against a raw path; returns decoded params or undefined. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const ps = pattern.split("/");
  const xs = path.split("/");
  const params: Record<string, string> = {};
  for (let i = 0; i < ps.length; i++) {
    const p = ps[i] as string;
    if (p === "*" && i === ps.length - 1) return params;
    const x = xs[i];
    if (x === undefined) return undefined;
    if (p.startsWith(":")) {
      if (x === "") return undefined;
      params[p.slice(1)] = decodeSegment(x);
    } else if (p !== x) return undefined;
  }
  return ps.length === xs.length ? params : undefined;
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // Hono keeps an undecodable segment as is; the check then uses the same name
  }
}
