/**
 * One job: its whole definition, actions (run, force run, enable/disable, edit, delete), the
 * next 10 runs in the job's zone and the viewer's, a history chart of duration and lateness,
 * and the executions table.
 */
import { useState } from "preact/hooks";
import type { Execution, Job } from "../../src/gen/tock/v1/job_pb.ts";
import { TimeChart } from "../chart.tsx";
import { jobs } from "../client.ts";
import { Errors, ExecBadge, JobBadge, msOf, useActions, usePoll, When } from "../components.tsx";
import { durationText, zonedTime } from "../format.ts";
import { href, navigate } from "../router.ts";
import { scheduleWords } from "../schedule_words.ts";

const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

async function load(name: string) {
  const [job, executions, next] = await Promise.all([
    jobs.getJob({ name }),
    jobs.listExecutions({ jobName: name, outputSizeLimit: 0 }),
    jobs.getNextRuns({ name, n: 10 }),
  ]);
  return { job: job.job as Job, executions: executions.executions, next: next.runs };
}

export function JobPage({ name }: { name: string }) {
  const { data, error, reload } = usePoll(() => load(name), name, 30_000);
  const { errors, act, dismiss, busy } = useActions();
  const [confirmDelete, setConfirmDelete] = useState(false);
  if (data === undefined) {
    return (
      <section>
        <h2>{name}</h2>
        {error !== "" ? <p class="error" role="alert">{error}</p> : <p class="muted">Loading…</p>}
      </section>
    );
  }
  const { job, executions } = data;
  const run = async (force: boolean) => {
    let started: Execution | undefined;
    const ok = await act(async () => {
      started = (await jobs.runJob({ name, force })).execution;
    });
    if (ok && started !== undefined) navigate(href(["jobs", name, "executions", started.id]));
    else await reload();
  };
  return (
    <>
      <section id="job">
        <div class="bar">
          <h2>
            {job.name}
            {job.displayname !== "" && job.displayname !== job.name && (
              <span class="muted">· {job.displayname}</span>
            )}
          </h2>
          <JobBadge status={job.status} />
          {job.disabled && <span class="badge idle">disabled</span>}
          <span class="spacer" />
          <div class="actions">
            <button type="button" id="run" disabled={busy} onClick={() => run(false)}>
              Run now
            </button>
            <button
              type="button"
              id="force-run"
              disabled={busy}
              onClick={() => run(true)}
              title="Run even if concurrency forbids it now"
            >
              Force run
            </button>
            <button
              type="button"
              id="toggle"
              disabled={busy}
              onClick={async () => {
                await act(() => jobs.toggleJob({ name }));
                await reload();
              }}
            >
              {job.disabled ? "Enable" : "Disable"}
            </button>
            <a class="button" id="edit" href={href(["jobs", name, "edit"])}>Edit</a>
            {confirmDelete
              ? (
                <>
                  <button
                    type="button"
                    class="danger"
                    id="confirm-delete"
                    onClick={async () => {
                      if (await act(() => jobs.deleteJob({ name }))) navigate(href(["jobs"]));
                    }}
                  >
                    Delete {name}
                  </button>
                  <button type="button" onClick={() => setConfirmDelete(false)}>Cancel</button>
                </>
              )
              : (
                <button
                  type="button"
                  class="danger"
                  id="delete"
                  onClick={() => setConfirmDelete(true)}
                >
                  Delete…
                </button>
              )}
          </div>
        </div>
        {error !== "" && <p class="error" role="alert">{error}</p>}
        <Errors errors={errors} dismiss={dismiss} />
        <Definition job={job} />
      </section>
      <div class="two">
        <section id="next-runs">
          <h3>Next 10 runs</h3>
          <table>
            <thead>
              <tr>
                <th>Job zone ({job.timezone || "UTC"})</th>
                <th>Your zone ({viewerZone})</th>
              </tr>
            </thead>
            <tbody>
              {data.next.map((t, i) => {
                const ms = msOf(t) as number;
                return (
                  <tr key={i}>
                    <td class="mono">{zonedTime(ms, job.timezone)}</td>
                    <td class="mono">{zonedTime(ms, viewerZone)}</td>
                  </tr>
                );
              })}
              {data.next.length === 0 && (
                <tr>
                  <td colSpan={2} class="empty">
                    No scheduled runs{job.disabled ? " (disabled)" : ""}.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </section>
        <section id="history">
          <h3>History (duration and lateness, seconds)</h3>
          <History executions={executions} />
        </section>
      </div>
      <section id="executions">
        <h3>Executions ({executions.length})</h3>
        <ExecutionsTable job={name} executions={executions} />
      </section>
    </>
  );
}

function History({ executions }: { executions: Execution[] }) {
  const done = executions
    .filter((e) => e.startedAt !== undefined && e.finishedAt !== undefined)
    .map((e) => ({
      x: Number(e.group / 1_000_000n) / 1_000,
      duration: ((msOf(e.finishedAt) as number) - (msOf(e.startedAt) as number)) / 1_000,
      lateness: Math.max(0, (msOf(e.startedAt) as number) - Number(e.group / 1_000_000n)) / 1_000,
    }))
    .sort((a, b) => a.x - b.x);
  if (done.length === 0) return <p class="muted">No finished runs yet.</p>;
  const key = done.map((d) => `${d.x}:${d.duration}`).join(",");
  return (
    <TimeChart
      id="history-chart"
      dataKey={key}
      x={done.map((d) => d.x)}
      series={[
        { label: "duration", colour: "--accent", values: done.map((d) => d.duration) },
        { label: "lateness", colour: "--warn", values: done.map((d) => d.lateness) },
      ]}
    />
  );
}

export function ExecutionsTable({ job, executions }: { job: string; executions: Execution[] }) {
  if (executions.length === 0) return <p class="muted">No executions yet.</p>;
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th>Execution</th>
            <th>Status</th>
            <th>Started</th>
            <th>Duration</th>
            <th class="wide">Node</th>
            <th class="wide num">Attempt</th>
            <th class="num">Exit</th>
            <th class="wide">Reason</th>
          </tr>
        </thead>
        <tbody id="executions-body">
          {executions.map((e) => {
            const started = msOf(e.startedAt);
            const finished = msOf(e.finishedAt);
            return (
              <tr key={e.id} data-nav data-execution={e.id}>
                <td class="mono">
                  <a href={href(["jobs", job, "executions", e.id])}>{e.id}</a>
                </td>
                <td>
                  <ExecBadge status={e.status} />
                </td>
                <td>
                  <When ms={started} />
                </td>
                <td>
                  {started !== null && finished !== null
                    ? durationText(finished - started)
                    : e.status === "running"
                    ? "running"
                    : ""}
                </td>
                <td class="wide">{e.nodeName}</td>
                <td class="wide num">{e.attempt}</td>
                <td class="num">{e.exitCode === undefined ? "" : String(e.exitCode)}</td>
                <td class="wide small">{e.reason}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function Pairs({ map }: { map: Record<string, string> }) {
  const entries = Object.entries(map).sort(([a], [b]) => (a < b ? -1 : 1));
  if (entries.length === 0) return <span class="muted">none</span>;
  return <>{entries.map(([k, v]) => <span key={k} class="tag">{k}={v}</span>)}</>;
}

function Definition({ job }: { job: Job }) {
  const config = Object.entries(job.executorConfig).filter(([k]) => k !== "command");
  return (
    <div class="definition">
      <dl>
        <dt>Schedule</dt>
        <dd>
          <code>{job.schedule || "—"}</code>{" "}
          <span class="muted">{scheduleWords(job.schedule, job.parentJob)}</span>
        </dd>
        <dt>Time zone</dt>
        <dd>{job.timezone || "UTC"}</dd>
        <dt>Next run</dt>
        <dd>
          <When ms={job.disabled ? null : msOf(job.next)} />
        </dd>
        <dt>Executor</dt>
        <dd>{job.executor}</dd>
        {job.executorConfig["command"] !== undefined && (
          <>
            <dt>Command</dt>
            <dd>
              <pre class="command">{job.executorConfig["command"]}</pre>
            </dd>
          </>
        )}
        {config.length > 0 && (
          <>
            <dt>Executor config</dt>
            <dd>
              <Pairs map={Object.fromEntries(config)} />
            </dd>
          </>
        )}
        <dt>Owner</dt>
        <dd>
          {job.owner || <span class="muted">none</span>}
          {job.ownerEmail !== "" && ` <${job.ownerEmail}>`}
        </dd>
        <dt>Tags</dt>
        <dd>
          <Pairs map={job.tags} />
        </dd>
        <dt>Metadata</dt>
        <dd>
          <Pairs map={job.metadata} />
        </dd>
        <dt>Retries</dt>
        <dd>{job.retries} (delay {job.retryDelay || "1s"}, up to {job.retryDelayMax || "5m"})</dd>
        <dt>Overlap</dt>
        <dd>{job.concurrency || "allow"}</dd>
        <dt>Missed runs</dt>
        <dd>{job.misfirePolicy || "run_once"} (deadline {job.startingDeadline || "1h"})</dd>
        <dt>Runs</dt>
        <dd>
          <span class="ok-text">{String(job.successCount)} ok</span> ·{" "}
          <span class={job.errorCount > 0n ? "bad-text" : ""}>{String(job.errorCount)} failed</span>
          {" "}
          · last success <When ms={msOf(job.lastSuccess)} /> · last failure{" "}
          <When ms={msOf(job.lastError)} />
        </dd>
      </dl>
      <Chain job={job} />
    </div>
  );
}

/** Parent → this job → children, as linked boxes. */
function Chain({ job }: { job: Job }) {
  if (job.parentJob === "" && job.dependentJobs.length === 0) return null;
  return (
    <div class="chain" id="chain" aria-label="Dependency chain">
      {job.parentJob !== "" && (
        <>
          <a class="node-box" href={href(["jobs", job.parentJob])}>{job.parentJob}</a>
          <span class="arrow">→</span>
        </>
      )}
      <span class="node-box current">{job.name}</span>
      {job.dependentJobs.length > 0 && (
        <>
          <span class="arrow">→</span>
          <span class="children">
            {job.dependentJobs.map((c) => (
              <a key={c} class="node-box" href={href(["jobs", c])}>{c}</a>
            ))}
          </span>
        </>
      )}
    </div>
  );
}
