// Proves the replicated ACL commands: bootstrap happens exactly once, tokens are unique by
// accessor and secret hash, policies upsert and delete, refusals change nothing, and the audit
// log keeps entries by count and age.
import { describe, expect, test } from "bun:test";
import type { AclToken, AuditInput } from "../acl/mod.ts";
import { apply } from "./apply.ts";
import { MemoryStateStore } from "./store_port.ts";

const token = (accessor: string, hash = accessor.padEnd(64, "0")): AclToken => ({
  accessor,
  name: `t-${accessor}`,
  type: "client",
  policies: ["p"],
  secret_hash: hash,
  created_at: 1,
});
const entry = (at: number): AuditInput => ({
  at,
  accessor: "a",
  token_name: "n",
  action: "POST /v1/jobs",
  job: "j",
  remote: "127.0.0.1",
  status: 201,
  error: "",
});

describe("acl commands", () => {
  test("bootstrap succeeds once; the second is a conflict that stores nothing", () => {
    const s = new MemoryStateStore();
    const first = { ...token("aa"), type: "management" as const, policies: [] };
    expect(apply(s, { type: "acl.bootstrap", token: first })).toEqual({ ok: true });
    const again = apply(s, {
      type: "acl.bootstrap",
      token: { ...first, accessor: "bb", secret_hash: "b".repeat(64) },
    });
    expect(again.ok).toBe(false);
    expect(!again.ok && again.error.message).toContain("ACL bootstrap already done");
    expect(s.acl.tokens().map((t) => t.accessor)).toEqual(["aa"]);
  });

  test("a reset naming the current bootstrap index allows exactly one more bootstrap", () => {
    const s = new MemoryStateStore();
    const t = (a: string) => ({ ...token(a), type: "management" as const, policies: [] });
    expect(apply(s, { type: "acl.bootstrap", token: t("aa") }).ok).toBe(true);
    const wrong = apply(s, { type: "acl.bootstrap", token: t("bb"), resetIndex: 2 });
    expect(!wrong.ok && wrong.error.message).toContain("(reset index 1)");
    expect(apply(s, { type: "acl.bootstrap", token: t("cc"), resetIndex: 1 }).ok).toBe(true);
    expect(apply(s, { type: "acl.bootstrap", token: t("dd"), resetIndex: 1 }).ok).toBe(false);
    expect(s.acl.bootstrapIndex()).toBe(2);
    expect(s.acl.tokens().map((x) => x.accessor).sort()).toEqual(["aa", "cc"]);
  });

  test("tokens: duplicates refused, bad hashes refused, delete of a missing token is not_found", () => {
    const s = new MemoryStateStore();
    expect(apply(s, { type: "acl.token.create", token: token("aa") }).ok).toBe(true);
    const dupAccessor = apply(s, { type: "acl.token.create", token: token("aa", "c".repeat(64)) });
    expect(!dupAccessor.ok && dupAccessor.error.kind).toBe("conflict");
    const dupHash = apply(s, {
      type: "acl.token.create",
      token: token("dd", "aa".padEnd(64, "0")),
    });
    expect(!dupHash.ok && dupHash.error.message).toContain("secret already exists");
    const badHash = apply(s, { type: "acl.token.create", token: token("ee", "zz") });
    expect(!badHash.ok && badHash.error.kind).toBe("invalid");
    expect(apply(s, { type: "acl.token.delete", accessor: "aa" }).ok).toBe(true);
    const gone = apply(s, { type: "acl.token.delete", accessor: "aa" });
    expect(!gone.ok && gone.error.kind).toBe("not_found");
    expect(s.acl.countTokens()).toBe(0);
  });

  test("policies upsert by name and delete", () => {
    const s = new MemoryStateStore();
    const p = { name: "p", description: "", jobs: [], operator: [] };
    apply(s, { type: "acl.policy.upsert", policy: p });
    apply(s, { type: "acl.policy.upsert", policy: { ...p, description: "v2" } });
    expect(s.acl.policies()).toEqual([{ ...p, description: "v2" }]);
    expect(apply(s, { type: "acl.policy.delete", name: "p" }).ok).toBe(true);
    expect(apply(s, { type: "acl.policy.delete", name: "p" }).ok).toBe(false);
  });

  test("audit entries get increasing seqs and entries past the age bound are dropped", () => {
    const s = new MemoryStateStore();
    const day = 24 * 3600 * 1000;
    apply(s, { type: "audit.append", entry: entry(0) });
    apply(s, { type: "audit.append", entry: entry(10 * day) });
    expect(s.acl.auditPage(0, 10).map((e) => e.seq)).toEqual([1, 2]);
    apply(s, { type: "audit.append", entry: entry(31 * day) });
    // The first entry is 31 days older than the newest: gone. Paging continues after seq 2.
    expect(s.acl.auditPage(0, 10).map((e) => e.seq)).toEqual([2, 3]);
    expect(s.acl.auditPage(2, 10).map((e) => e.seq)).toEqual([3]);
    s.acl.trimAudit(1, 0);
    expect(s.acl.auditPage(0, 10).map((e) => e.seq)).toEqual([3]);
  });

  test("the retention carried by the command applies, never above the bounds", () => {
    const s = new MemoryStateStore();
    const hour = 3600 * 1000;
    for (let i = 0; i < 5; i++) {
      apply(s, { type: "audit.append", entry: entry(i * hour), keep: 3, maxAgeMs: 10 * hour });
    }
    expect(s.acl.auditPage(0, 10).map((e) => e.seq)).toEqual([3, 4, 5]);
    apply(s, { type: "audit.append", entry: entry(12 * hour), keep: 3, maxAgeMs: 10 * hour });
    // Entries older than 10 h before the newest (at 0..1 h) go; 2 h, 3 h, 4 h, 12 h remain, keep 3.
    expect(s.acl.auditPage(0, 10).map((e) => e.at / hour)).toEqual([3, 4, 12]);
    const big = new MemoryStateStore();
    const day = 24 * hour;
    apply(big, { type: "audit.append", entry: entry(0), maxAgeMs: 365 * day });
    apply(big, { type: "audit.append", entry: entry(40 * day), maxAgeMs: 365 * day });
    expect(big.acl.auditPage(0, 10).map((e) => e.seq)).toEqual([2]); // capped at 30 days
  });
});
