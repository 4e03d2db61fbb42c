// Keeps the README honest: runs its curl tutorial exactly as written (only the host:port is
// pointed at a fresh test server) and checks each command succeeds and the job went through
// create → list → get → run → executions → delete.
import { expect, test } from "bun:test";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { testNodeForFile } from "./support/node.ts";
import { repoRoot } from "./support/proc.ts";

const served = testNodeForFile("tock-readme-");

function tutorialCommands(): string[] {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const section = /<!-- tutorial:start -->([\s\S]*?)<!-- tutorial:end -->/.exec(readme)?.[1] ?? "";
  const script = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join("\n");
  // Join continuation lines, drop comments and blanks: one entry per command.
  return script.replace(/\\\n\s*/g, "").split("\n").filter((l) =>
    l.trim() !== "" && !l.startsWith("#")
  );
}

/** Runs one shell command without blocking this process (which also serves the API). */
function sh(cmd: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("bash", ["-c", cmd], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test("the README tutorial runs as written against a live server", async () => {
  const commands = tutorialCommands();
  expect(commands.length).toBeGreaterThanOrEqual(7);
  const outputs: string[] = [];
  for (const cmd of commands) {
    const pointed = cmd.replaceAll("http://localhost:8080", served.node.url);
    const r = await sh(pointed);
    expect({ cmd, status: r.status, stderr: r.stderr }).toEqual({ cmd, status: 0, stderr: "" });
    outputs.push(r.stdout);
  }
  const joined = outputs.join("\n");
  expect(joined).toContain('"name":"job1"');
  const executions = JSON.parse(
    outputs[commands.findIndex((c) => c.endsWith("/executions"))] as string,
  );
  expect(executions[0]).toMatchObject({ job_name: "job1", success: true, status: "success" });
  expect(executions[0].output).toMatch(/\d{4}/); // `date` printed a year
});
