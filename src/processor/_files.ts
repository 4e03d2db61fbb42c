/**
 * The files processor (Dkron's dkron-processor-files): writes the output to
 * `<log_dir>/<job>_<execution id>.log` (mode 0644; the dir is created if missing). Keys:
 * `forward`, `log_dir` (default /var/log/tock). Tock names the file by job and id because
 * execution ids repeat across jobs (Dkron's ids did not).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { checkKeys, forwards } from "./_forward.ts";
import type { Processor } from "./_types.ts";

const defaultDir = "/var/log/tock";

export const filesProcessor: Processor = {
  name: "files",
  validate(config) {
    const bad = checkKeys(config, ["log_dir"], "files");
    if (bad) return bad;
    const dir = config.log_dir ?? "";
    if (dir !== "" && (!isAbsolute(dir) || dir.includes("\0"))) {
      return `processor files: log_dir "${dir}" is not an absolute path`;
    }
    return undefined;
  },
  async process(run) {
    const dir = (run.config.log_dir ?? "") === "" ? defaultDir : run.config.log_dir as string;
    const path = join(dir, `${run.jobName}_${run.executionId}.log`);
    await mkdir(dir, { recursive: true });
    await writeFile(path, run.output, { mode: 0o644, signal: run.signal });
    return forwards(run.config) ? run.output : path;
  },
};
