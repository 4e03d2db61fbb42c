/**
 * SQLite tables behind the AclStore port: tokens (by accessor, with a unique index on the secret
 * hash), policies and the audit log. Writes run inside SqliteStateStore's apply transaction.
 */
import type { AclToken, AuditEntry, AuditInput, Policy } from "../acl/mod.ts";
import type { Db } from "../runtime/mod.ts";
import type { AclStore } from "../state/mod.ts";

const schema = `
create table if not exists acl_tokens (
  accessor text primary key, secret_hash text not null unique, body text not null) strict;
create table if not exists acl_policies (name text primary key, body text not null) strict;
create table if not exists audit (seq integer primary key, at integer not null, body text not null) strict;
create index if not exists audit_by_time on audit (at);
`;

export class SqliteAclStore implements AclStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
    db.exec(schema);
  }

  bootstrapIndex(): number {
    const r = this.#db.prepare("select value from meta where key = 'acl_bootstrap_index'").get();
    return r === undefined ? 0 : Number(r["value"]);
  }
  setBootstrapIndex(n: number): void {
    this.#db.prepare("insert or replace into meta (key, value) values ('acl_bootstrap_index', ?)")
      .run(n);
  }
  getToken(accessor: string): AclToken | undefined {
    const r = this.#db.prepare("select body from acl_tokens where accessor = ?").get(accessor);
    return r ? (JSON.parse(r["body"] as string) as AclToken) : undefined;
  }
  tokenByHash(hash: string): AclToken | undefined {
    const r = this.#db.prepare("select body from acl_tokens where secret_hash = ?").get(hash);
    return r ? (JSON.parse(r["body"] as string) as AclToken) : undefined;
  }
  putToken(t: AclToken): void {
    this.#db.prepare(
      "insert or replace into acl_tokens (accessor, secret_hash, body) values (?, ?, ?)",
    ).run(t.accessor, t.secret_hash, JSON.stringify(t));
  }
  deleteToken(accessor: string): void {
    this.#db.prepare("delete from acl_tokens where accessor = ?").run(accessor);
  }
  tokens(): AclToken[] {
    return this.#db.prepare("select body from acl_tokens order by accessor").all()
      .map((r) => JSON.parse(r["body"] as string) as AclToken);
  }
  countTokens(): number {
    return Number(this.#db.prepare("select count(*) as n from acl_tokens").get()?.["n"] ?? 0);
  }
  getPolicy(name: string): Policy | undefined {
    const r = this.#db.prepare("select body from acl_policies where name = ?").get(name);
    return r ? (JSON.parse(r["body"] as string) as Policy) : undefined;
  }
  putPolicy(p: Policy): void {
    this.#db.prepare("insert or replace into acl_policies (name, body) values (?, ?)")
      .run(p.name, JSON.stringify(p));
  }
  deletePolicy(name: string): void {
    this.#db.prepare("delete from acl_policies where name = ?").run(name);
  }
  policies(): Policy[] {
    return this.#db.prepare("select body from acl_policies order by name").all()
      .map((r) => JSON.parse(r["body"] as string) as Policy);
  }
  countPolicies(): number {
    return Number(this.#db.prepare("select count(*) as n from acl_policies").get()?.["n"] ?? 0);
  }
  appendAudit(e: AuditInput): AuditEntry {
    const last = this.#db.prepare("select max(seq) as s from audit").get()?.["s"];
    // The sequence survives trimming: it continues from the meta counter, never reused.
    const counter = this.#db.prepare("select value from meta where key = 'audit_seq'").get();
    const seq = Math.max(Number(last ?? 0), Number(counter?.["value"] ?? 0)) + 1;
    const entry: AuditEntry = { seq, ...e };
    this.#db.prepare("insert into audit (seq, at, body) values (?, ?, ?)")
      .run(seq, e.at, JSON.stringify(entry));
    this.#db.prepare("insert or replace into meta (key, value) values ('audit_seq', ?)").run(seq);
    return entry;
  }
  trimAudit(keep: number, beforeMs: number): void {
    this.#db.prepare("delete from audit where at < ?").run(beforeMs);
    const cut = this.#db.prepare("select seq from audit order by seq desc limit 1 offset ?")
      .get(keep);
    if (cut) this.#db.prepare("delete from audit where seq <= ?").run(cut["seq"] as number);
  }
  auditPage(after: number, limit: number): AuditEntry[] {
    return this.#db.prepare("select body from audit where seq > ? order by seq limit ?")
      .all(after, limit)
      .map((r) => JSON.parse(r["body"] as string) as AuditEntry);
  }
}
