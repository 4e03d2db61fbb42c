// A job delete applied on a node stops its runs and deletes its output in the background; a
// failure there (the output store refusing the delete) is logged, never an unhandled rejection.
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningAgent, startAgent } from "../src/cli/mod.ts";
import { defaultNodeIo } from "../src/node/mod.ts";
import { loadRuntime } from "../src/runtime/mod.ts";
import { parseJobBody } from "../src/state/mod.ts";
import { notYet, slowWait, until } from "./support/proc.ts";

let agent: RunningAgent | undefined;
let dir = "";
afterEach(async () => {
  await agent?.stop(1_000);
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

test(
  "a job delete whose output cannot be deleted logs the failure instead of rejecting unhandled",
  async () => {
    const runtime = await loadRuntime();
    const io = defaultNodeIo(runtime);
    let deleteCalls = 0;
    const failingIo = {
      ...io,
      openOutput: (d: string) => {
        const out = io.openOutput(d);
        out.deleteJob = () => {
          deleteCalls++;
          throw new Error("output store is read-only");
        };
        return out;
      },
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => void unhandled.push(err);
    process.on("unhandledRejection", onUnhandled);
    const logged: string[] = [];
    const consoleError = console.error;
    console.error = (...args: unknown[]) => void logged.push(args.map(String).join(" "));
    try {
      dir = mkdtempSync(join(tmpdir(), "job-delete-output-"));
      agent = await startAgent({
        nodeName: "n1",
        dataDir: dir,
        httpHost: "127.0.0.1",
        httpPort: 0,
        server: true,
        bootstrapExpect: 1,
        tags: {},
        version: "test",
        ui: false,
      }, failingIo);
      const api = agent.node.api;
      const job = parseJobBody({
        name: "a",
        schedule: "@manually",
        executor: "shell",
        executor_config: { command: "true" },
      });
      await api.propose({ type: "job.upsert", job });
      await api.propose({ type: "job.delete", name: "a" });
      await until(
        "the failed output delete to be logged",
        () =>
          logged.some((l) => l.includes(`deleting the output of job "a" failed`))
            ? true
            : notYet({ deleteCalls, logged, unhandled: unhandled.map(String) }),
        slowWait.untilMs,
      );
      // One more turn of the loop for a rejection to be reported, had there been one.
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
      expect(logged.join("\n")).toContain("output store is read-only");
    } finally {
      console.error = consoleError;
      process.off("unhandledRejection", onUnhandled);
    }
  },
  slowWait.testMs,
);
