/**
 * The `tock` entry point: the only place that picks a runtime adapter. Everything else is
 * runtime-agnostic and receives the Runtime it needs.
 */
import process from "node:process";
import { runCli } from "./cli/mod.ts";
import { defaultNodeIo } from "./node/mod.ts";
import { loadRuntime } from "./runtime/mod.ts";

const runtime = await loadRuntime();
const code = await runCli(
  {
    runtime,
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    nodeIo: () => defaultNodeIo(runtime),
    write: (chunk) => void process.stdout.write(chunk),
  },
  runtime.args(),
);
runtime.exit(code);
