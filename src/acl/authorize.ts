/** Who is asking (an Identity) and what a request needs (a Need): the one capability check. */
import { globMatch, type JobCapability, type OperatorArea, type Policy } from "./policy.ts";

/** A stored ACL token. Only the SHA-256 of the secret is kept; the secret is shown once. */
export interface AclToken {
  /** Public id (a UUID): names the token in lists, audit entries and deletes. */
  accessor: string;
  name: string;
  type: "management" | "client";
  /** Policy names; a client token's rights are the union of these policies' grants. */
  policies: string[];
  /** Lower-case hex SHA-256 of the secret. */
  secret_hash: string;
  /** Epoch ms, from the proposer. */
  created_at: number;
}

/** The token as the API lists it: never the hash. */
export function publicToken(t: AclToken): Omit<AclToken, "secret_hash"> {
  return {
    accessor: t.accessor,
    name: t.name,
    type: t.type,
    policies: [...t.policies],
    created_at: t.created_at,
  };
}

export type Identity =
  /** ACLs are off (loopback-only or --insecure-api): everything is allowed. */
  | { kind: "open" }
  | { kind: "management"; accessor: string; name: string }
  | { kind: "client"; accessor: string; name: string; policies: Policy[] };

export type Need =
  /** No token needed (health, UI assets, bootstrap, CORS preflight). */
  | { kind: "public" }
  /** Any valid token (status, busy, own token). */
  | { kind: "token" }
  /** A job capability on `job`; null: on some job (the handler checks the exact one). */
  | { kind: "job"; cap: JobCapability; job: string | null }
  | { kind: "operator"; area: OperatorArea }
  /** Only a management token (ACL administration, unclassified routes). */
  | { kind: "management" }
  /** Decided per method by the Connect interceptor, which sees the message. */
  | { kind: "connect" };

export function allows(id: Identity, need: Need): boolean {
  if (need.kind === "public" || id.kind === "open" || id.kind === "management") return true;
  switch (need.kind) {
    case "token":
    case "connect":
      return true;
    case "management":
      return false;
    case "operator":
      return id.policies.some((p) => p.operator.includes(need.area));
    case "job":
      return id.policies.some((p) =>
        p.jobs.some((r) =>
          r.capabilities.includes(need.cap) && (need.job === null || globMatch(r.glob, need.job))
        )
      );
  }
}

/** Describes a need for a 403 message: names the capability and the resource. */
export function describeNeed(need: Need): string {
  switch (need.kind) {
    case "job":
      return need.job === null
        ? `capability "${need.cap}" on a job`
        : `capability "${need.cap}" on job "${need.job}"`;
    case "operator":
      return `capability "operator" on "${need.area}"`;
    case "management":
      return "a management token";
    default:
      return "a token";
  }
}

/** Who an identity is, for audit entries and the job owner. */
export function whoIs(id: Identity): { accessor: string; name: string } {
  return id.kind === "open" ? { accessor: "", name: "anonymous" } : {
    accessor: id.accessor,
    name: id.name,
  };
}
