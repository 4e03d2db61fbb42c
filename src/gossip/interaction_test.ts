// Proves the protocol rules through interaction scripts in testdata/*.txt: each script's actual
// output must equal its golden output. UPDATE=1 rewrites the golden files.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runScript } from "./_script.ts";

const dir = join(import.meta.dir, "testdata");
const update = process.env["UPDATE"] === "1";

describe("gossip interaction scripts", () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".txt")).sort()) {
    test(`script ${file} produces its golden output`, () => {
      const path = join(dir, file);
      const want = readFileSync(path, "utf8");
      const got = runScript(want);
      if (update) writeFileSync(path, got);
      else expect(got).toBe(want);
    });
  }
});
