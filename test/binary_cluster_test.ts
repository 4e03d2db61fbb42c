// Proves the server cluster with the compiled binary (dist/tock, built here): the same
// scenarios as the source run (test/support/cluster_suite.ts).
import { beforeAll, expect } from "bun:test";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { clusterSuite } from "./support/cluster_suite.ts";

const root = resolve(import.meta.dir, "..");
const binary = join(root, "dist/tock");

beforeAll(() => {
  const build = Bun.spawnSync([process.execPath, "run", "scripts/compile.ts"], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (build.exitCode !== 0) {
    throw new Error(`compile failed:\n${build.stdout.toString()}${build.stderr.toString()}`);
  }
  expect(existsSync(binary)).toBe(true);
}, 120_000);

clusterSuite("compiled binary", { command: [binary] });
