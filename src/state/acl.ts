/**
 * Replicated ACL state: tokens (hashes only), policies, the bootstrap mark and the audit log.
 * Applied like every other command, through the AclStore port (SQLite tables in store/).
 */
import {
  type AclToken,
  type AuditEntry,
  type AuditInput,
  checkAclName,
  type Policy,
} from "../acl/mod.ts";
import { assertNever, conflict, invalid, limits, notFound } from "../lib/mod.ts";

export type AclCommand =
  /**
   * Stores the first management token; refused once the cluster is bootstrapped, unless
   * `resetIndex` names the current bootstrap index (an operator's reset file, as in Nomad).
   */
  | { type: "acl.bootstrap"; token: AclToken; resetIndex?: number }
  | { type: "acl.token.create"; token: AclToken }
  | { type: "acl.token.delete"; accessor: string }
  /** Creates or replaces a policy by name. */
  | { type: "acl.policy.upsert"; policy: Policy }
  | { type: "acl.policy.delete"; name: string }
  /**
   * Appends an audit entry; entries beyond the count bound or older than the age bound go. The
   * proposer's configured retention rides along (never above limits.ts), so every replica trims
   * alike.
   */
  | { type: "audit.append"; entry: AuditInput; keep?: number; maxAgeMs?: number };

export const aclCommandTypes: ReadonlySet<string> = new Set([
  "acl.bootstrap",
  "acl.token.create",
  "acl.token.delete",
  "acl.policy.upsert",
  "acl.policy.delete",
  "audit.append",
]);

export interface AclStore {
  /** How many times the cluster was bootstrapped (0: never). */
  bootstrapIndex(): number;
  setBootstrapIndex(n: number): void;
  getToken(accessor: string): AclToken | undefined;
  tokenByHash(hash: string): AclToken | undefined;
  putToken(t: AclToken): void;
  deleteToken(accessor: string): void;
  tokens(): AclToken[];
  countTokens(): number;
  getPolicy(name: string): Policy | undefined;
  putPolicy(p: Policy): void;
  deletePolicy(name: string): void;
  policies(): Policy[];
  countPolicies(): number;
  /** Appends with seq = last seq + 1 and returns the stored entry. */
  appendAudit(e: AuditInput): AuditEntry;
  /** Deletes entries older than `beforeMs` and all but the newest `keep`. */
  trimAudit(keep: number, beforeMs: number): void;
  /** Entries with seq > `after`, oldest first, at most `limit`. */
  auditPage(after: number, limit: number): AuditEntry[];
}

export function applyAcl(store: AclStore, cmd: AclCommand): void {
  switch (cmd.type) {
    case "acl.bootstrap": {
      const index = store.bootstrapIndex();
      if (index > 0 && cmd.resetIndex !== index) {
        throw conflict(
          `ACL bootstrap already done (reset index ${index}): create further tokens with the management token; if it is lost, write ${index} to acl-bootstrap-reset in the data dir of the node you bootstrap through`,
        );
      }
      checkToken(store, cmd.token);
      store.setBootstrapIndex(index + 1);
      store.putToken(cmd.token);
      return;
    }
    case "acl.token.create":
      checkToken(store, cmd.token);
      store.putToken(cmd.token);
      return;
    case "acl.token.delete":
      if (!store.getToken(cmd.accessor)) throw notFound(`ACL token "${cmd.accessor}" not found`);
      store.deleteToken(cmd.accessor);
      return;
    case "acl.policy.upsert":
      checkAclName("policy name", cmd.policy.name);
      if (!store.getPolicy(cmd.policy.name) && store.countPolicies() >= limits.aclPoliciesMax) {
        throw invalid(
          `cannot create policy "${cmd.policy.name}": the cluster holds ${limits.aclPoliciesMax} policies, the limit`,
        );
      }
      store.putPolicy(cmd.policy);
      return;
    case "acl.policy.delete":
      if (!store.getPolicy(cmd.name)) throw notFound(`ACL policy "${cmd.name}" not found`);
      store.deletePolicy(cmd.name);
      return;
    case "audit.append":
      store.appendAudit(cmd.entry);
      store.trimAudit(
        Math.min(cmd.keep ?? limits.auditEntriesMax, limits.auditEntriesMax),
        cmd.entry.at - Math.min(cmd.maxAgeMs ?? limits.auditRetentionMs, limits.auditRetentionMs),
      );
      return;
    default:
      assertNever(cmd, "ACL command");
  }
}

function checkToken(store: AclStore, t: AclToken): void {
  checkAclName("token name", t.name);
  if (!/^[0-9a-f]{64}$/.test(t.secret_hash)) {
    throw invalid("token secret_hash must be 64 hex digits");
  }
  if (t.policies.length > limits.aclPoliciesPerTokenMax) {
    throw invalid(
      `token "${t.name}" has ${t.policies.length} policies, above the limit ${limits.aclPoliciesPerTokenMax}`,
    );
  }
  for (const p of t.policies) checkAclName("policy name", p);
  if (store.getToken(t.accessor)) {
    throw conflict(`ACL token accessor "${t.accessor}" already exists`);
  }
  if (store.tokenByHash(t.secret_hash)) {
    throw conflict("an ACL token with this secret already exists");
  }
  if (store.countTokens() >= limits.aclTokensMax) {
    throw invalid(
      `cannot create token "${t.name}": the cluster holds ${limits.aclTokensMax} tokens, the limit`,
    );
  }
}

/** AclStore over Maps, for pure tests and in-memory nodes. */
export class MemoryAclStore implements AclStore {
  #bootstrapIndex = 0;
  readonly #tokens = new Map<string, AclToken>();
  readonly #policies = new Map<string, Policy>();
  #audit: AuditEntry[] = [];
  #seq = 0;

  bootstrapIndex(): number {
    return this.#bootstrapIndex;
  }
  setBootstrapIndex(n: number): void {
    this.#bootstrapIndex = n;
  }
  getToken(accessor: string): AclToken | undefined {
    const t = this.#tokens.get(accessor);
    return t && structuredClone(t);
  }
  tokenByHash(hash: string): AclToken | undefined {
    for (const t of this.#tokens.values()) if (t.secret_hash === hash) return structuredClone(t);
    return undefined;
  }
  putToken(t: AclToken): void {
    this.#tokens.set(t.accessor, structuredClone(t));
  }
  deleteToken(accessor: string): void {
    this.#tokens.delete(accessor);
  }
  tokens(): AclToken[] {
    return [...this.#tokens.values()].map((t) => structuredClone(t));
  }
  countTokens(): number {
    return this.#tokens.size;
  }
  getPolicy(name: string): Policy | undefined {
    const p = this.#policies.get(name);
    return p && structuredClone(p);
  }
  putPolicy(p: Policy): void {
    this.#policies.set(p.name, structuredClone(p));
  }
  deletePolicy(name: string): void {
    this.#policies.delete(name);
  }
  policies(): Policy[] {
    return [...this.#policies.keys()].sort().map((k) =>
      structuredClone(this.#policies.get(k) as Policy)
    );
  }
  countPolicies(): number {
    return this.#policies.size;
  }
  appendAudit(e: AuditInput): AuditEntry {
    const entry = { seq: ++this.#seq, ...e };
    this.#audit.push(entry);
    return structuredClone(entry);
  }
  trimAudit(keep: number, beforeMs: number): void {
    this.#audit = this.#audit.filter((e) => e.at >= beforeMs).slice(-keep);
  }
  auditPage(after: number, limit: number): AuditEntry[] {
    return this.#audit.filter((e) => e.seq > after).slice(0, limit).map((e) => structuredClone(e));
  }
}
