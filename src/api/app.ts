/**
 * The HTTP surface on one port: REST /v1, Connect + gRPC-web, /metrics, /openapi.json, the UI.
 * Dkron's cross-cutting behaviour: CORS for everything, X-Whom on every route but /health.
 */
import { Hono } from "hono";
import { cors } from "hono/cors";
import { mountCluster } from "./cluster.ts";
import { requestId } from "hono/request-id";
import { MemoryAclStore } from "../state/mod.ts";
import { aclInterceptor, aclMiddleware, type AclOptions, guardDeps } from "./acl_guard.ts";
import { mountAclRest } from "./acl_rest.ts";
import { mountConnect } from "./connect.ts";
import { debugVars } from "./debug_vars.ts";
import type { ApiDeps } from "./deps.ts";
import { httpCache } from "./http_cache.ts";
import { requestIdHeader } from "./log.ts";
import { openApiDocument } from "./openapi.ts";
import { withAcl } from "./openapi_acl.ts";
import { mountRest, type RestState, sendError, sendJson } from "./rest.ts";
import { mountUi } from "./ui.ts";

export interface AppOptions {
  /** Serve the embedded UI under /ui/ (and redirect / there for browsers). */
  ui: boolean;
  /** Access control; absent means ACLs off with an empty token store. */
  acl?: AclOptions;
}

export function createApp(
  rawDeps: ApiDeps,
  options: AppOptions,
  state: RestState = { paused: false },
): Hono {
  const app = new Hono();
  app.use("*", httpCache());
  const acl = options.acl ?? { enabled: false, store: new MemoryAclStore() };
  // Handlers see the deps through the ACL guard: filtered lists, checked job writes.
  const deps = guardDeps(rawDeps);
  // Every request gets an id (or keeps the client's X-Request-Id): error reports name it.
  app.use("*", requestId({ headerName: requestIdHeader }));
  app.get("/health", (c) => c.json({ status: "healthy" }));
  app.use("*", async (c, next) => {
    if (c.req.path === "/health") return next();
    await next();
    c.res.headers.set("X-Whom", deps.nodeName);
  });
  app.use(
    "*",
    cors({
      origin: "*",
      allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
      allowHeaders: [],
      exposeHeaders: ["*"],
    }),
  );
  app.use("*", aclMiddleware(acl, rawDeps.propose, rawDeps.nowMs));
  app.get(
    "/metrics",
    (c) =>
      c.body(deps.metricsText(), 200, {
        "content-type": "text/plain; version=0.0.4; charset=utf-8",
      }),
  );
  app.get("/openapi.json", (c) => sendJson(c, 200, withAcl(openApiDocument)));
  app.get("/debug/vars", (c) => sendJson(c, 200, debugVars(deps.metricsText())));
  mountCluster(app, deps);
  mountRest(app, deps, state);
  mountAclRest(app, deps, acl);
  mountConnect(app, deps, { paused: () => state.paused, interceptors: [aclInterceptor()] });
  if (options.ui) mountUi(app);
  app.notFound((c) => sendJson(c, 404, { error: `no route for ${c.req.method} ${c.req.path}` }));
  // Handlers throw TockErrors; this maps them (and anything unexpected, as 500) in one place.
  app.onError((e, c) => sendError(c, e));
  return app;
}
