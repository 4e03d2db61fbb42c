// Proves the boundary checker reports each kind of violation (so a clean run means something).
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkTree } from "./check.ts";

const root = mkdtempSync(join(tmpdir(), "tock-check-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function put(path: string, text: string) {
  const p = join(root, "src", path);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, text);
}

test("checkTree flags runtime leaks, impure cores and imports past mod.ts", () => {
  put("lib/mod.ts", "export const x = 1;\n");
  put("lib/_inner.ts", "export const y = 1;\n");
  put("api/server.ts", 'import { y } from "../lib/_inner.ts";\nBun.serve({});\n');
  put(
    "raft/core.ts",
    'import { readFileSync } from "node:fs";\nconst t = Date.now();\nconst r = Math.random();\n',
  );
  put(
    "state/apply.ts",
    'import { x } from "../lib/mod.ts";\n// Date.now() in a comment is fine\nexport const z = x;\n',
  );
  const problems = checkTree(root).join("\n");
  expect(problems).toContain("src/api/server.ts:2: Bun./Deno. outside src/runtime/");
  expect(problems).toContain("src/api/server.ts: imports ../lib/_inner.ts");
  expect(problems).toContain('pure core raft/ imports "node:fs"');
  expect(problems).toContain("pure core raft/ reads the clock (Date.now)");
  expect(problems).toContain("pure core raft/ uses Math.random");
  expect(problems).not.toContain("state/apply.ts");
});

test("checkTree flags the forbidden arrows: node → api, anything → cli, raft ↔ gossip", () => {
  put("api/mod.ts", "export const app = 1;\n");
  put("cli/mod.ts", 'import { app } from "../api/mod.ts";\nexport const c = app;\n');
  put("node/node.ts", 'import { app } from "../api/mod.ts";\nexport const n = app;\n');
  put("scheduler/s.ts", 'import { c } from "../cli/mod.ts";\nexport const s = c;\n');
  put("gossip/mod.ts", "export const g = 1;\n");
  put("raft/mod.ts", "export const r = 1;\n");
  put("raft/uses_gossip.ts", 'import { g } from "../gossip/mod.ts";\nexport const q = g;\n');
  put("net/mod.ts", "export const net = 1;\n");
  put("consensus/t.ts", 'import { net } from "../net/mod.ts";\nexport const t = net;\n');
  const problems = checkTree(root).join("\n");
  expect(problems).toContain("src/node/node.ts: node/ must not import api/");
  expect(problems).toContain("src/scheduler/s.ts: scheduler/ must not import cli/");
  expect(problems).toContain("src/raft/uses_gossip.ts: raft/ must not import gossip/");
  expect(problems).toContain("src/consensus/t.ts: consensus/ must not import net/");
  expect(problems).not.toContain("src/cli/mod.ts");
});
