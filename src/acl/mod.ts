/**
 * acl: pure access-control decisions — policy parsing, glob matching, the capability check and
 * the route → capability table. Token hashing and storage live in api/ and store/.
 */
export type { AuditEntry, AuditInput } from "./audit.ts";
export {
  type AclToken,
  allows,
  describeNeed,
  type Identity,
  type Need,
  publicToken,
  whoIs,
} from "./authorize.ts";
export {
  checkAclName,
  globMatch,
  jobCapabilities,
  type JobCapability,
  type JobRule,
  type OperatorArea,
  operatorAreas,
  parsePolicy,
  type Policy,
} from "./policy.ts";
export {
  connectMethods,
  connectNeed,
  connectPathPrefix,
  matchPath,
  restRoutes,
  routeNeed,
  type RouteRule,
} from "./routes.ts";
