/** Every execution running in the cluster, with elapsed time and a kill button. */
import type { Execution } from "../../src/gen/tock/v1/job_pb.ts";
import { jobs } from "../client.ts";
import { Errors, msOf, now, useActions, usePoll, When } from "../components.tsx";
import { durationText } from "../format.ts";
import { href } from "../router.ts";

export function RunningPage() {
  const { data, error, reload } = usePoll(() => jobs.listRunningExecutions({}), "running", 30_000);
  const { errors, act, dismiss } = useActions();
  const list: Execution[] = data?.executions ?? [];
  return (
    <section id="running">
      <div class="bar">
        <h2>Running now</h2>
        <span class="muted">{data === undefined ? "" : `${list.length} running`}</span>
      </div>
      {error !== "" && <p class="error" role="alert">{error}</p>}
      <Errors errors={errors} dismiss={dismiss} />
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>Job</th>
              <th>Execution</th>
              <th>Elapsed</th>
              <th></th>
              <th class="wide">Node</th>
              <th class="wide">Started</th>
            </tr>
          </thead>
          <tbody id="running-body">
            {list.map((e) => {
              const started = msOf(e.startedAt);
              return (
                <tr
                  key={`${e.jobName}/${e.id}`}
                  data-nav
                  data-execution={e.id}
                  data-job={e.jobName}
                >
                  <td class="name">
                    <a href={href(["jobs", e.jobName, "executions", e.id])}>{e.jobName}</a>
                  </td>
                  <td class="mono">{e.id}</td>
                  <td>{started === null ? "starting" : durationText(now.value - started)}</td>
                  <td>
                    <button
                      type="button"
                      class="danger kill"
                      onClick={async () => {
                        await act(() =>
                          jobs.killExecution({ jobName: e.jobName, executionId: e.id })
                        );
                        await reload();
                      }}
                    >
                      Kill
                    </button>
                  </td>
                  <td class="wide">{e.nodeName}</td>
                  <td class="wide">
                    <When ms={started} />
                  </td>
                </tr>
              );
            })}
            {list.length === 0 && (
              <tr>
                <td colSpan={6} class="empty">
                  {data === undefined ? "Loading…" : "Nothing is running."}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
