/** The next 24 h of launches: a histogram (where the herd is) and the soonest launches. */
import { TimeChart } from "../chart.tsx";
import { jobs } from "../client.ts";
import { msOf, usePoll, When } from "../components.tsx";
import { href } from "../router.ts";
import { localTime } from "../components.tsx";

export function UpcomingPage() {
  const { data, error } = usePoll(
    () => jobs.getUpcoming({ hours: 24, bucketMinutes: 15, limit: 100 }),
    "upcoming",
    60_000,
    false,
  );
  const from = msOf(data?.from) ?? 0;
  const bucketMs = (data?.bucketMinutes ?? 15) * 60_000;
  const buckets = data?.buckets ?? [];
  const total = buckets.reduce((a, b) => a + b, 0);
  const peak = buckets.reduce((best, n, i) => (n > (buckets[best] ?? 0) ? i : best), 0);
  return (
    <>
      <section id="upcoming">
        <div class="bar">
          <h2>Upcoming 24 h</h2>
          <span class="muted">
            {data === undefined
              ? ""
              : `${total} launches${data.truncated ? " (at least: the count was capped)" : ""}`}
          </span>
        </div>
        {error !== "" && <p class="error" role="alert">{error}</p>}
        {data !== undefined && total > 0 && (
          <>
            <p class="muted">
              Busiest {data.bucketMinutes} minutes: {localTime(from + peak * bucketMs)} with{" "}
              {buckets[peak]} launches.
            </p>
            <TimeChart
              id="upcoming-chart"
              bars
              dataKey={`${from}:${buckets.join(",")}`}
              x={buckets.map((_, i) => (from + i * bucketMs) / 1000)}
              series={[{ label: "launches", colour: "--accent", values: buckets }]}
            />
          </>
        )}
        {data !== undefined && total === 0 && (
          <p class="muted">Nothing scheduled in the next 24 hours.</p>
        )}
      </section>
      <section>
        <h3>Soonest</h3>
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th>When</th>
                <th>Job</th>
                <th class="wide">At (your zone)</th>
              </tr>
            </thead>
            <tbody id="upcoming-body">
              {(data?.soonest ?? []).map((s, i) => (
                <tr key={i} data-nav>
                  <td>
                    <When ms={msOf(s.at)} />
                  </td>
                  <td class="name">
                    <a href={href(["jobs", s.jobName])}>{s.jobName}</a>
                  </td>
                  <td class="wide mono">{localTime(msOf(s.at) as number)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}
