// Keeps the README's security sections honest: the production server config and the example
// policy it shows are accepted as written by the config resolver and the policy parser.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { parsePolicy } from "../src/acl/mod.ts";
import { readConfigFile, resolveConfig } from "../src/cli/mod.ts";
import { repoRoot } from "./support/proc.ts";

const dir = mkdtempSync(join(tmpdir(), "tock-readme-sec-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
const yamlBlocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);

test("the production server config in the README resolves with ACLs and HTTPS on", () => {
  const block = yamlBlocks.find((b) => b.includes("client-cert-auth"));
  expect(block).toBeDefined();
  const file = join(dir, "tock.yml");
  writeFileSync(file, block as string);
  const cfg = resolveConfig(readConfigFile(file).raw);
  expect(cfg).toMatchObject({
    httpHost: "10.0.0.11",
    bootstrapExpect: 3,
    security: { aclEnabled: true, tls: { certFile: "/etc/tock/tls/tock-server-0.pem" } },
  });
});

test("the example policy in the README parses", () => {
  const block = yamlBlocks.find((b) => b.includes("backup-runner"));
  const p = parsePolicy(parseYaml(block as string));
  expect(p).toMatchObject({ name: "backup-runner", operator: ["pause"] });
  expect(p.jobs).toEqual([{ glob: "backup-*", capabilities: ["read", "list", "run"] }]);
});

test("every example config in the README resolves (none is refused by safe-by-default)", () => {
  for (const [i, block] of yamlBlocks.entries()) {
    if (block.includes("jobs:")) continue; // a policy, not a config
    const file = join(dir, `c${i}.yml`);
    writeFileSync(file, block);
    expect(() => resolveConfig(readConfigFile(file).raw)).not.toThrow();
  }
});
