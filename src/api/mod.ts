/** api: the HTTP surface (REST /v1, Connect, metrics, OpenAPI, UI) built from ApiDeps ports. */
export { createApp } from "./app.ts";
export type {
  ActivityView,
  ApiDeps,
  ClusterMemberView,
  ClusterPort,
  ClusterView,
  Member,
  RaftPeer,
} from "./deps.ts";
export { connectCode, httpStatus } from "./errors.ts";
export type { RestState } from "./rest.ts";
export type { AclOptions } from "./acl_guard.ts";
export { hashSecret, newTokenSecret } from "./acl_auth.ts";
export { setLogLevel } from "./log.ts";
