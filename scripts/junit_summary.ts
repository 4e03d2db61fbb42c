/**
 * Reads bun's junit report and prints "N passed, N failed, N skipped", adding the static checks
 * that scripts/test.sh ran. A missing or unreadable report counts as one failure.
 * Usage: bun scripts/junit_summary.ts out/junit.xml <static passed> <static failed>
 */
import { readFileSync } from "node:fs";

const [file = "out/junit.xml", staticPass = "0", staticFail = "0"] = process.argv.slice(2);
let tests = 0, failures = 0, errors = 0, skipped = 0, unreadable = 0;
try {
  const xml = readFileSync(file, "utf8");
  const root = /<testsuites\b[^>]*>/.exec(xml)?.[0] ?? "";
  const attr = (k: string) => Number(new RegExp(`\\b${k}="(\\d+)"`).exec(root)?.[1] ?? 0);
  tests = attr("tests");
  failures = attr("failures");
  errors = attr("errors");
  skipped = attr("skipped");
  if (root === "") unreadable = 1;
} catch {
  unreadable = 1;
}
const failed = failures + errors + unreadable + Number(staticFail);
const passed = Math.max(0, tests - failures - errors - skipped) + Number(staticPass);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
