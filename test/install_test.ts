// Keeps `npm install` quiet (issue 14, item 16): every locked package with an install script is
// covered by package.json's allowScripts, and each package whose Node engine range the README
// explains (EBADENGINE) is named in its install notes.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./support/proc.ts";

const read = (f: string) => JSON.parse(readFileSync(join(repoRoot, f), "utf8"));
const lock = read("package-lock.json") as {
  packages: Record<string, { hasInstallScript?: boolean; engines?: { node?: string } }>;
};
const nameOf = (path: string) => path.replace(/^.*node_modules\//, "");

test("every locked package with an install script is reviewed in allowScripts", () => {
  const allow = (read("package.json").allowScripts ?? {}) as Record<string, boolean>;
  const withScripts = Object.entries(lock.packages)
    .filter(([path, p]) => path !== "" && p.hasInstallScript)
    .map(([path]) => nameOf(path));
  expect(withScripts.length).toBeGreaterThan(0);
  expect(withScripts.filter((n) => allow[n] !== true).sort()).toEqual([]);
});

test("each package asking for a newer Node than npm's is explained in the README", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const notes = /<!-- install-warnings:start -->([\s\S]*?)<!-- install-warnings:end -->/.exec(
    readme,
  )?.[1] ?? "";
  // The Node this box runs npm with is 20; a range starting above it warns EBADENGINE.
  const newer = Object.entries(lock.packages)
    .filter(([, p]) => Number(/>=\s*(\d+)/.exec(p.engines?.node ?? "")?.[1] ?? 0) > 20)
    .map(([path]) => nameOf(path));
  expect(newer.length).toBeGreaterThan(0);
  for (const name of newer) {
    expect({ name, explained: notes.includes(name) }).toEqual({ name, explained: true });
  }
});
