/**
 * The HTTP surface on one port: REST /v1, Connect + gRPC-web, /metrics, /openapi.json, the UI.
 * Dkron's cross-cutting behaviour: CORS for everything, X-Whom on every route but /health.
 */
import { Hono } from "hono";
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import { mountConnect } from "./connect.ts";
import { debugVars } from "./debug_vars.ts";
import type { ApiDeps } from "./deps.ts";
import { httpCache } from "./http_cache.ts";
import { requestIdHeader } from "./log.ts";
import { openApiDocument } from "./openapi.ts";
import { mountRest, type RestState, sendError, sendJson } from "./rest.ts";
import { mountUi } from "./ui.ts";

export interface AppOptions {
  /** Serve the embedded UI under /ui/ (and redirect / there for browsers). */
  ui: boolean;
}

export function createApp(
  deps: ApiDeps,
  options: AppOptions,
  state: RestState = { paused: false },
): Hono {
  const app = new Hono();
  app.use("*", httpCache());
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
  app.get(
    "/metrics",
    (c) =>
      c.body(deps.metricsText(), 200, {
        "content-type": "text/plain; version=0.0.4; charset=utf-8",
      }),
  );
  app.get("/openapi.json", (c) => sendJson(c, 200, openApiDocument));
  app.get("/debug/vars", (c) => sendJson(c, 200, debugVars(deps.metricsText())));
  mountRest(app, deps, state);
  mountConnect(app, deps, { paused: () => state.paused });
  if (options.ui) mountUi(app);
  app.notFound((c) => sendJson(c, 404, { error: `no route for ${c.req.method} ${c.req.path}` }));
  // Handlers throw TockErrors; this maps them (and anything unexpected, as 500) in one place.
  app.onError((e, c) => sendError(c, e));
  return app;
}
