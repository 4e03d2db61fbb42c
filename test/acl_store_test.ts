// Proves the SQLite ACL tables: tokens, policies, the bootstrap mark and the audit log survive a
// restart; audit sequence numbers are never reused after trimming; lookups go by secret hash; a
// node keeps the configured number of audit entries.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadRuntime } from "../src/runtime/mod.ts";
import { SqliteStateStore } from "../src/store/mod.ts";
import { startTestNode } from "./support/node.ts";
import { until } from "./support/proc.ts";

const dir = mkdtempSync(join(tmpdir(), "tock-acl-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("SqliteAclStore", () => {
  test("ACL state and audit survive a reopen; a second bootstrap is refused after restart", async () => {
    const rt = await loadRuntime();
    const path = join(dir, "state.db");
    const s = new SqliteStateStore(rt.openDb(path));
    const token = {
      accessor: "acc-1",
      name: "root",
      type: "management" as const,
      policies: [],
      secret_hash: "ab".repeat(32),
      created_at: 5,
    };
    s.applyBatch(1, [
      { type: "acl.bootstrap", token },
      {
        type: "acl.policy.upsert",
        policy: {
          name: "p",
          description: "d",
          jobs: [{ glob: "*", capabilities: ["read"] }],
          operator: [],
        },
      },
      ...[1, 2, 3, 4].map((at) => ({
        type: "audit.append" as const,
        entry: {
          at,
          accessor: "acc-1",
          token_name: "root",
          action: "POST /v1/jobs",
          job: "j",
          remote: "",
          status: 201,
          error: "",
        },
      })),
    ]);
    s.acl.trimAudit(2, 0);
    s.close();

    const r = new SqliteStateStore(rt.openDb(path));
    expect(r.acl.bootstrapIndex()).toBe(1);
    expect(r.acl.tokenByHash("ab".repeat(32))?.accessor).toBe("acc-1");
    expect(r.acl.tokenByHash("cd".repeat(32))).toBeUndefined();
    expect(r.acl.getPolicy("p")?.jobs).toEqual([{ glob: "*", capabilities: ["read"] }]);
    expect(r.acl.auditPage(0, 10).map((e) => e.seq)).toEqual([3, 4]);
    const [again] = r.applyBatch(r.appliedIndex + 1, [
      {
        type: "acl.bootstrap",
        token: { ...token, accessor: "acc-2", secret_hash: "ef".repeat(32) },
      },
    ]);
    expect(again?.ok).toBe(false);
    r.acl.trimAudit(0, 0);
    r.applyBatch(r.appliedIndex + 1, [{
      type: "audit.append",
      entry: {
        at: 9,
        accessor: "",
        token_name: "anonymous",
        action: "x",
        job: "",
        remote: "",
        status: 200,
        error: "",
      },
    }]);
    expect(r.acl.auditPage(0, 10).map((e) => e.seq)).toEqual([5]);
    r.close();
  });
});

describe("audit retention on a node", () => {
  test(
    "with ACLs off writes are still audited (as anonymous), trimmed to the configured count",
    async () => {
      const node = await startTestNode(join(dir, "node"), "audit-node", {
        audit: { maxEntries: 2, maxAgeMs: 3600 * 1000 },
      });
      try {
        for (const name of ["a1", "a2", "a3", "a4"]) {
          const res = await fetch(`${node.url}/v1/jobs`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
              name,
              schedule: "@daily",
              executor: "shell",
              executor_config: { command: "true" },
            }),
          });
          expect(res.status).toBe(201);
        }
        const entries = await until("the last audit entry", async () => {
          const page = await (await fetch(`${node.url}/v1/audit`)).json();
          return page.some((e: { job: string }) => e.job === "a4") ? page : undefined;
        });
        expect(entries.map((e: { job: string; token_name: string }) => [e.job, e.token_name]))
          .toEqual([
            ["a3", "anonymous"],
            ["a4", "anonymous"],
          ]);
      } finally {
        await node.stop(2_000);
      }
    },
    30_000,
  );
});
