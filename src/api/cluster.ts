/**
 * Cluster routes: readiness for load balancers, Raft peers and operations (Tock's own, for
 * `tock raft ...`), and Dkron's POST /v1/leave. Liveness stays GET /health (app.ts), 200 as soon
 * as the process serves, also while a server waits for --bootstrap-expect peers.
 */
import type { Hono } from "hono";
import { TockError } from "../lib/mod.ts";
import type { ApiDeps, ClusterPort } from "./deps.ts";
import { handleKeyringRequest } from "./keyring_routes.ts";
import { sendJson } from "./rest.ts";

export function mountCluster(app: Hono, deps: ApiDeps): void {
  const cluster = (): ClusterPort => {
    if (deps.clusterOps === undefined) {
      throw new TockError("unavailable", "this node runs no cluster layer");
    }
    return deps.clusterOps;
  };
  // Readiness: a leader is known and this server applied everything it knows committed.
  app.get("/health/ready", (c) => {
    const r = cluster().ready();
    return r.ready
      ? sendJson(c, 200, { status: "ready", reason: r.reason })
      : sendJson(c, 503, { status: "not ready", error: r.reason });
  });
  app.get("/v1/raft/peers", (c) => sendJson(c, 200, cluster().peers()));
  app.delete("/v1/raft/peers/:id", async (c) => {
    const id = c.req.param("id");
    await cluster().removePeer(id);
    return sendJson(c, 200, { removed: id });
  });
  app.post("/v1/raft/transfer-leader", async (c) => {
    const to = c.req.query("to") ?? "";
    const leader = await cluster().transferLeader(to);
    return sendJson(c, 200, { leader });
  });
  // Dkron: leaves gracefully and answers the member list as it was.
  app.post("/v1/leave", async (c) => sendJson(c, 200, await cluster().leave()));
  // Serf/Consul's keyring operator API: list, install, use (make primary), remove, cluster-wide.
  for (const method of ["GET", "POST", "PUT", "DELETE"] as const) {
    app.on(method, "/v1/keyring", (c) => handleKeyringRequest(c.req.raw, deps.keyring?.()));
  }
}
