// Proves how a bug answered 500 is reported (issue 14, item 12): one line naming the request id
// (the same id the client gets in X-Request-Id) and the error at the default level; the stack
// only at --log-level debug, with real function and file names even in the compiled binary.
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile } from "../scripts/compile.ts";
import { bunBin, repoRoot, slowWait } from "./support/proc.ts";

const fixture = "test/fixtures/internal_error.ts";
const dir = mkdtempSync(join(tmpdir(), "tock-error-log-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string[], level: string) {
  const r = spawnSync(cmd[0] as string, [...cmd.slice(1), level], {
    cwd: dir,
    encoding: "utf8",
    timeout: slowWait.untilMs,
  });
  expect({ status: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({
    status: 0,
    stderr: "",
  });
  const answers = r.stdout.trim().split("\n").map((l) =>
    JSON.parse(l) as { api: string; status: number; id: string }
  );
  return { answers, stderr: r.stderr.trimEnd().split("\n") };
}

const expectedLines = (answers: Array<{ api: string; id: string }>) => [
  `tock: internal error in GET /v1/jobs (request ${
    answers[0]?.id
  }): store lookup failed: disk I/O error`,
  `tock: internal error in tock.v1.JobService/ListJobs (request client-chosen-id): store lookup failed: disk I/O error`,
];

test("at the default level each 500 is one line with the request id and the error", () => {
  const { answers, stderr } = run([bunBin, join(repoRoot, fixture)], "info");
  expect(answers.map((a) => a.status)).toEqual([500, 500]);
  expect(answers[0]?.id).toMatch(/^[0-9a-f-]{36}$/);
  expect(stderr).toEqual(expectedLines(answers));
}, slowWait.testMs);

test("at debug the compiled binary adds stacks with real function and file names", async () => {
  const outfile = join(dir, "internal_error_bin");
  await compile({ entry: fixture, outfile, bytecode: true, skipUi: true });
  const { answers, stderr } = run([outfile], "debug");
  const lines = expectedLines(answers);
  expect(stderr.filter((l) => l.startsWith("tock: "))).toEqual(lines);
  const stack = stderr.join("\n");
  expect(stack).toContain("at failingLookup (test/fixtures/internal_error.ts:");
  expect(stack).toMatch(/\(src\/api\/rest\.ts:\d+:\d+\)/);
  expect(stack).toMatch(/at guard \(src\/api\/connect\.ts:\d+:\d+\)/);
  // No source excerpt: every line is a message or a frame.
  for (const l of stderr) expect(l).toMatch(/^(tock: |Error: |\s+at )/);
}, 60_000);
