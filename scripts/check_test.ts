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
