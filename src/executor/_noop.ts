/**
 * The noop executor: succeeds at once without starting anything. It measures the scheduler and
 * dispatch path without process costs. Config: `output` (text to emit), `fail` ("true" to fail).
 */
import { parseGoBool } from "./_parse.ts";
import { type Executor, OutputSink } from "./_types.ts";

export const noopExecutor: Executor = {
  name: "noop",
  validate(config) {
    for (const key of Object.keys(config)) {
      if (key !== "output" && key !== "fail") {
        return `noop: unknown key "${key}" (known: output, fail)`;
      }
    }
    if ((config.fail ?? "") !== "" && parseGoBool(config.fail as string) === undefined) {
      return `noop: fail "${config.fail}" is not true or false`;
    }
    return undefined;
  },
  run(req) {
    const sink = new OutputSink(req);
    if ((config(req.config, "output")) !== "") {
      sink.write(new TextEncoder().encode(config(req.config, "output")));
    }
    const failed = parseGoBool(config(req.config, "fail")) === true;
    return Promise.resolve({
      success: !req.signal.aborted && !failed,
      exitCode: null,
      error: req.signal.aborted ? "noop: execution aborted" : failed ? "noop: asked to fail" : "",
      outputBytes: sink.totalBytes,
      truncated: sink.truncated,
      tail: sink.tail(),
    });
  },
};

function config(c: Record<string, string>, key: string): string {
  return c[key] ?? "";
}
