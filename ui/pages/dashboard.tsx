/**
 * The cluster at a glance: leader and members (role, Raft and gossip state, tags, running),
 * launches per minute, the last hour's failures / missed / lost, lateness, and the jobs
 * failing now. Refreshed every few seconds while visible (unchanged answers are 304s).
 */
import { cluster, jobs } from "../client.ts";
import { msOf, usePoll, When } from "../components.tsx";
import { durationText } from "../format.ts";
import { href } from "../router.ts";

async function load() {
  const [c, a, failing] = await Promise.all([
    cluster.getCluster({}),
    jobs.getActivity({}),
    jobs.listJobs({ status: "failed", sort: "last_error", order: "DESC", start: 0, end: 10 }),
  ]);
  return { c, a, failing };
}

function Tile(
  { label, value, tone = "", id }: { label: string; value: string; tone?: string; id?: string },
) {
  return (
    <div class={`tile ${tone}`} id={id}>
      <div class="value">{value}</div>
      <div class="label">{label}</div>
    </div>
  );
}

export function Dashboard() {
  const { data, error } = usePoll(load, "dashboard", 10_000);
  if (data === undefined) {
    return (
      <section>
        {error !== "" ? <p class="error" role="alert">{error}</p> : <p class="muted">Loading…</p>}
      </section>
    );
  }
  const { c, a, failing } = data;
  return (
    <>
      {error !== "" && <p class="error" role="alert">{error}</p>}
      <section id="activity">
        <h2>Last hour</h2>
        <div class="tiles">
          <Tile id="t-launches" label="launches / min" value={String(a.launchesLastMinute)} />
          <Tile label="launches, last hour" value={String(a.launchesLastHour)} />
          <Tile label="running now" value={String(a.running)} />
          <Tile
            id="t-failed"
            label="failed, last hour"
            value={String(a.failedLastHour)}
            tone={a.failedLastHour > 0 ? "bad" : ""}
          />
          <Tile
            label="missed, last hour"
            value={String(a.missedLastHour)}
            tone={a.missedLastHour > 0 ? "warn" : ""}
          />
          <Tile
            label="lost, last hour"
            value={String(a.lostLastHour)}
            tone={a.lostLastHour > 0 ? "warn" : ""}
          />
          <Tile label="lateness p99" value={durationText(a.latenessP99Ms)} />
          <Tile
            id="t-failing"
            label={`jobs failing of ${a.jobsTotal}`}
            value={String(a.jobsFailing)}
            tone={a.jobsFailing > 0 ? "bad" : ""}
          />
        </div>
      </section>
      <section id="cluster">
        <div class="bar">
          <h2>Cluster</h2>
          <span class="muted">
            leader <strong id="leader">{c.leader || "none"}</strong>
            {c.term > 0n && ` · term ${c.term}`} · applied {String(c.appliedIndex)}
          </span>
        </div>
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th>Member</th>
                <th>Role</th>
                <th>Raft</th>
                <th>Gossip</th>
                <th class="num">Running</th>
                <th class="wide">Address</th>
                <th class="wide">Tags</th>
              </tr>
            </thead>
            <tbody id="members-body">
              {c.members.map((m) => (
                <tr key={m.name} data-nav>
                  <td class="name">
                    {m.name}
                    {m.name === c.leader && <span class="badge ok">leader</span>}
                  </td>
                  <td>{m.role}</td>
                  <td>{m.raftState || <span class="muted">—</span>}</td>
                  <td>
                    <span
                      class={`badge ${
                        m.gossipState === "alive"
                          ? "ok"
                          : m.gossipState === "suspect"
                          ? "warn"
                          : "bad"
                      }`}
                    >
                      {m.gossipState}
                    </span>
                  </td>
                  <td class="num">{m.running}</td>
                  <td class="wide mono">{m.addr}</td>
                  <td class="wide tags">
                    {Object.entries(m.tags).map(([k, v]) => <span key={k} class="tag">{k}={v}
                    </span>)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section id="failing">
        <div class="bar">
          <h2>Failing now</h2>
          <span class="spacer" />
          <a href={href(["jobs"], { status: "failed", sort: "last_error", order: "DESC" })}>
            All {failing.total} failing jobs ›
          </a>
        </div>
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th>Job</th>
                <th>Last failure</th>
                <th class="wide">Last success</th>
                <th class="wide num">Errors</th>
              </tr>
            </thead>
            <tbody id="failing-body">
              {failing.jobs.map((j) => (
                <tr key={j.name} data-nav>
                  <td class="name">
                    <a href={href(["jobs", j.name])}>{j.name}</a>
                  </td>
                  <td>
                    <When ms={msOf(j.lastError)} />
                  </td>
                  <td class="wide">
                    <When ms={msOf(j.lastSuccess)} />
                  </td>
                  <td class="wide num bad-text">{String(j.errorCount)}</td>
                </tr>
              ))}
              {failing.jobs.length === 0 && (
                <tr>
                  <td colSpan={4} class="empty">No job is failing.</td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}
