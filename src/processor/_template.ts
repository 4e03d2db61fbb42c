/**
 * Notification templates: Dkron's variables in Go template syntax, `{{.JobName}}` and the like,
 * plus `{{json .Output}}` for a JSON-quoted value (Dkron's text/template had no escaping, so an
 * output with a quote broke a JSON payload). Only these two forms exist here; anything else in
 * braces is refused when the config is read, not at send time.
 */

export const templateVariables = [
  "Report",
  "JobName",
  "ReportingNode",
  "StartTime",
  "FinishedAt",
  "Success",
  "NodeName",
  "Output",
  "ExecutionID",
] as const;
export type TemplateVars = Record<(typeof templateVariables)[number], string>;

const action = /\{\{\s*(json\s+)?\.([A-Za-z]+)\s*\}\}/g;

/** An error message naming the first unknown action, or undefined when the template is usable. */
export function checkTemplate(template: string): string | undefined {
  for (const m of template.matchAll(/\{\{[^}]*\}\}/g)) {
    const one = /^\{\{\s*(?:json\s+)?\.([A-Za-z]+)\s*\}\}$/.exec(m[0]);
    if (!one || !(templateVariables as readonly string[]).includes(one[1] as string)) {
      return `template action ${m[0]} is not one of {{.Name}} or {{json .Name}} with Name in ${
        templateVariables.join(", ")
      }`;
    }
  }
  return undefined;
}

export function render(template: string, vars: TemplateVars): string {
  return template.replace(action, (whole, json, name: string) => {
    const v = (vars as Record<string, string | undefined>)[name];
    if (v === undefined) return whole;
    return json ? JSON.stringify(v) : v;
  });
}

/** Go's default time.Time format in UTC: "2006-01-02 15:04:05.999999999 -0700 MST". */
export function goTime(ms: number | null): string {
  if (ms === null) return "0001-01-01 00:00:00 +0000 UTC";
  const iso = new Date(ms).toISOString(); // 2006-01-02T15:04:05.123Z
  const [date, rest] = iso.split("T") as [string, string];
  let [clock, frac] = rest.replace("Z", "").split(".") as [string, string];
  frac = frac.replace(/0+$/, "");
  return `${date} ${clock}${frac ? `.${frac}` : ""} +0000 UTC`;
}

export interface ReportInput {
  jobName: string;
  reportingNode: string;
  nodeName: string;
  startedAt: number | null;
  finishedAt: number | null;
  success: boolean;
  output: string;
  executionId: string;
  group: number;
}

/** Dkron's template variables for one execution, Report laid out as Dkron's. */
export function templateVars(r: ReportInput): TemplateVars {
  const start = goTime(r.startedAt);
  const end = goTime(r.finishedAt);
  const report = [
    `Executed: ${r.jobName}`,
    `Reporting node: ${r.reportingNode}`,
    `Start time: ${start}`,
    `End time: ${end}`,
    `Success: ${r.success}`,
    `Node: ${r.nodeName}`,
    `Output: ${r.output}`,
    `Execution group: ${r.group}`,
    `\t[Node]: ${r.nodeName} [Start]: ${start} [End]: ${end} [Success]: ${r.success}`,
  ].join("\n");
  return {
    Report: report,
    JobName: r.jobName,
    ReportingNode: r.reportingNode,
    StartTime: start,
    FinishedAt: end,
    Success: String(r.success),
    NodeName: r.nodeName,
    Output: r.output,
    ExecutionID: r.executionId,
  };
}
