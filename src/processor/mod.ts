/**
 * processor: what happens on the executing node after a run — output processors (log, files,
 * syslog, fluent) from the job's `processors` map, and notifications (webhook, mail; cluster-wide
 * from the agent config and per job).
 */
import { filesProcessor } from "./_files.ts";
import { fluentProcessor } from "./_fluent.ts";
import { logProcessor } from "./_log.ts";
import { syslogProcessor } from "./_syslog.ts";
import type { Processor } from "./_types.ts";

export type { Processor, ProcessorRun } from "./_types.ts";
export { type ChainResult, runProcessors } from "./_chain.ts";
export {
  emptyNotifyConfig,
  type NotifyConfig,
  type NotifyConfigKey,
  notifyConfigKeys,
  parseNotifyConfig,
} from "./config.ts";
export {
  type FinishedRun,
  notificationNames,
  Notifier,
  type NotifierDeps,
  shouldNotify,
  validateNotification,
} from "./notify.ts";
export { checkTemplate, render, templateVars } from "./_template.ts";
export { formatSyslog } from "./_syslog.ts";

/** A fresh registry of the built-in output processors by (lower-case) name. */
export function processorRegistry(): Map<string, Processor> {
  return new Map<string, Processor>([
    [logProcessor.name, logProcessor],
    [filesProcessor.name, filesProcessor],
    [syslogProcessor.name, syslogProcessor],
    [fluentProcessor.name, fluentProcessor],
  ]);
}
