/**
 * The log processor (Dkron's dkron-processor-log): prints the output between BEGIN and END
 * lines on the agent's stdout (success) or stderr (failure). Key: `forward`.
 */
import process from "node:process";
import { checkKeys, forwards } from "./_forward.ts";
import type { Processor } from "./_types.ts";

export const logProcessor: Processor = {
  name: "log",
  validate: (config) => checkKeys(config, [], "log"),
  process(run) {
    const block = `----- BEGIN OUTPUT job=${run.jobName} execution=${run.executionId} -----\n` +
      `${run.output}\n----- END OUTPUT -----\n`;
    (run.success ? process.stdout : process.stderr).write(block);
    return Promise.resolve(forwards(run.config) ? run.output : "Output in tock log");
  },
};
