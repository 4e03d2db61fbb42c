/**
 * The jobs table: filtered, sorted and paged by the server (ListJobs), every choice in the URL,
 * a debounced search, the last runs' results per job, and bulk run / enable / disable / delete.
 */
import { useEffect, useState } from "preact/hooks";
import type { Job, ListJobsResponse } from "../../src/gen/tock/v1/job_pb.ts";
import { jobs } from "../client.ts";
import { Errors, JobBadge, msOf, Strip, useActions, usePoll, When } from "../components.tsx";
import { parsePairs } from "../format.ts";
import { href, navigate } from "../router.ts";
import { scheduleWords } from "../schedule_words.ts";

export const pageSizes = [25, 50, 100];
const searchDebounceMs = 250;

/** The table's state as it lives in the URL. */
interface Filters {
  q: string;
  status: string;
  disabled: string;
  failed: string;
  owner: string;
  tag: string;
  meta: string;
  sort: string;
  order: string;
  page: number;
  size: number;
}

function filtersOf(query: URLSearchParams): Filters {
  const size = Number(query.get("size") ?? "25");
  const page = Number(query.get("page") ?? "1");
  return {
    q: query.get("q") ?? "",
    status: query.get("status") ?? "",
    disabled: query.get("disabled") ?? "",
    failed: query.get("failed") ?? "",
    owner: query.get("owner") ?? "",
    tag: query.get("tag") ?? "",
    meta: query.get("meta") ?? "",
    sort: query.get("sort") ?? "name",
    order: query.get("order") === "DESC" ? "DESC" : "ASC",
    page: Number.isInteger(page) && page >= 1 ? page : 1,
    size: pageSizes.includes(size) ? size : 25,
  };
}

function linkOf(f: Filters): string {
  return href(["jobs"], {
    q: f.q,
    status: f.status,
    disabled: f.disabled,
    failed: f.failed,
    owner: f.owner,
    tag: f.tag,
    meta: f.meta,
    sort: f.sort === "name" ? "" : f.sort,
    order: f.order === "ASC" ? "" : f.order,
    page: f.page === 1 ? "" : String(f.page),
    size: f.size === 25 ? "" : String(f.size),
  });
}

const failedWindows: Record<string, number> = { "1h": 3_600, "1d": 86_400 };

/** A page of jobs with the filters it answers (the URL may have moved on meanwhile). */
async function load(f: Filters): Promise<{ res: ListJobsResponse; f: Filters }> {
  const tags = f.tag === "" ? {} : parsePairs(f.tag);
  if ("error" in tags) throw new Error(`tag filter: ${tags.error}`);
  const meta = f.meta === "" ? {} : parsePairs(f.meta);
  if ("error" in meta) throw new Error(`metadata filter: ${meta.error}`);
  const start = (f.page - 1) * f.size;
  const failed = failedWindows[f.failed];
  const res = await jobs.listJobs({
    q: f.q,
    status: f.status,
    ...(f.disabled === "" ? {} : { disabled: f.disabled === "true" }),
    ...(failed === undefined ? {} : { failedWithinSeconds: failed }),
    owner: f.owner,
    tags: "map" in tags ? tags.map as Record<string, string> : {},
    metadata: "map" in meta ? meta.map as Record<string, string> : {},
    sort: f.sort,
    order: f.order,
    start,
    end: start + f.size,
    recentRuns: 12,
  });
  return { res, f };
}

export function JobsPage({ query }: { query: URLSearchParams }) {
  const f = filtersOf(query);
  const link = linkOf(f);
  const { data, fresh, error, reload } = usePoll(() => load(f), link, 30_000);
  const { errors, act, dismiss, busy } = useActions();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [search, setSearch] = useState(f.q);

  const set = (change: Partial<Filters>, replace = false) =>
    navigate(linkOf({ ...f, page: 1, ...change }), replace);

  useEffect(() => {
    if (search === f.q) return;
    const t = setTimeout(() => set({ q: search }, true), searchDebounceMs);
    return () => clearTimeout(t);
  }, [search]);

  // Rows, range and pager describe the page that was answered, never a mix with the URL's.
  const shown = data?.f ?? f;
  const list: Job[] = data?.res.jobs ?? [];
  const total = data?.res.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / shown.size));
  const first = total === 0 ? 0 : (shown.page - 1) * shown.size + 1;
  const last = Math.min(total, shown.page * shown.size);
  const chosen = [...selected];

  const toggleOne = (name: string) => {
    const next = new Set(selected);
    if (next.has(name)) next.delete(name);
    else next.add(name);
    setSelected(next);
  };
  const allOnPage = list.length > 0 && list.every((j) => selected.has(j.name));

  const bulk = async (what: (j: string) => Promise<unknown>) => {
    await Promise.all(chosen.map((name) => act(() => what(name))));
    await reload();
  };
  const setEnabled = (enabled: boolean) =>
    bulk(async (name) => {
      const job = (await jobs.getJob({ name })).job;
      if (job !== undefined && job.disabled === enabled) await jobs.toggleJob({ name });
    });

  const sortHeader = (field: string, label: string, cls = "") => {
    const active = f.sort === field;
    const order = active && f.order === "ASC" ? "DESC" : "ASC";
    return (
      <th
        class={cls}
        aria-sort={active ? (f.order === "ASC" ? "ascending" : "descending") : "none"}
      >
        <a href={linkOf({ ...f, sort: field, order, page: 1 })} class="sort" data-sort={field}>
          {label}
          {active ? (f.order === "ASC" ? " ▲" : " ▼") : ""}
        </a>
      </th>
    );
  };

  return (
    <section id="jobs">
      <div class="bar">
        <h2>Jobs</h2>
        <span class="spacer" />
        <input
          id="search"
          type="search"
          placeholder="Search name or display name  ( / )"
          aria-label="Search jobs"
          value={search}
          onInput={(e) => setSearch((e.target as HTMLInputElement).value)}
        />
      </div>
      <div class="filters">
        <label>
          Status
          <select
            id="f-status"
            value={f.status}
            onChange={(e) => set({ status: (e.target as HTMLSelectElement).value })}
          >
            <option value="">any</option>
            <option value="success">success</option>
            <option value="failed">failed</option>
            <option value="running">running</option>
            <option value="untriggered">never ran</option>
          </select>
        </label>
        <label>
          Failed
          <select
            id="f-failed"
            value={f.failed}
            onChange={(e) => set({ failed: (e.target as HTMLSelectElement).value })}
          >
            <option value="">any time</option>
            <option value="1h">in the last hour</option>
            <option value="1d">in the last day</option>
          </select>
        </label>
        <label>
          State
          <select
            id="f-disabled"
            value={f.disabled}
            onChange={(e) => set({ disabled: (e.target as HTMLSelectElement).value })}
          >
            <option value="">any</option>
            <option value="false">enabled</option>
            <option value="true">disabled</option>
          </select>
        </label>
        <label>
          Owner
          <TextFilter
            id="f-owner"
            value={f.owner}
            size={10}
            onCommit={(v) => set({ owner: v })}
          />
        </label>
        <label>
          Tag
          <TextFilter
            id="f-tag"
            value={f.tag}
            size={12}
            placeholder="key=value"
            onCommit={(v) => set({ tag: v })}
          />
        </label>
        <label>
          Metadata
          <TextFilter
            id="f-meta"
            value={f.meta}
            size={12}
            placeholder="key=value"
            onCommit={(v) => set({ meta: v })}
          />
        </label>
        <label>
          Per page
          <select
            id="f-size"
            value={String(f.size)}
            onChange={(e) => set({ size: Number((e.target as HTMLSelectElement).value) })}
          >
            {pageSizes.map((n) => <option key={n} value={String(n)}>{n}</option>)}
          </select>
        </label>
      </div>
      {error !== "" && <p class="error" role="alert">{error}</p>}
      <Errors errors={errors} dismiss={dismiss} />
      {chosen.length > 0 && (
        <div class="bulk" id="bulk">
          <strong>{chosen.length} selected</strong>
          <button
            type="button"
            disabled={busy}
            onClick={() => bulk((name) => jobs.runJob({ name }))}
          >
            Run
          </button>
          <button type="button" disabled={busy} onClick={() => setEnabled(true)}>Enable</button>
          <button type="button" disabled={busy} onClick={() => setEnabled(false)}>Disable</button>
          {confirmDelete
            ? (
              <>
                <button
                  type="button"
                  class="danger"
                  id="confirm-delete"
                  disabled={busy}
                  onClick={async () => {
                    setConfirmDelete(false);
                    await bulk((name) => jobs.deleteJob({ name }));
                    setSelected(new Set());
                  }}
                >
                  Delete {chosen.length} jobs
                </button>
                <button type="button" onClick={() => setConfirmDelete(false)}>Cancel</button>
              </>
            )
            : (
              <button type="button" class="danger" onClick={() => setConfirmDelete(true)}>
                Delete…
              </button>
            )}
          <button type="button" class="ghost" onClick={() => setSelected(new Set())}>Clear</button>
        </div>
      )}
      <div class="scroll">
        <table class="jobs">
          <thead>
            <tr>
              <th class="check">
                <input
                  type="checkbox"
                  aria-label="Select all on this page"
                  checked={allOnPage}
                  onChange={() => {
                    const next = new Set(selected);
                    for (const j of list) allOnPage ? next.delete(j.name) : next.add(j.name);
                    setSelected(next);
                  }}
                />
              </th>
              {sortHeader("name", "Name")}
              <th>Last runs</th>
              <th>Actions</th>
              {sortHeader("schedule", "Schedule", "wide")}
              {sortHeader("next", "Next run", "wide")}
              {sortHeader("error_count", "Errors", "wide num")}
              <th class="wide">Owner</th>
              <th class="wide">Tags</th>
            </tr>
          </thead>
          <tbody id="jobs-body">
            {list.map((j) => (
              <JobRow
                key={j.name}
                job={j}
                recent={data?.res.recent[j.name]?.statuses ?? []}
                selected={selected.has(j.name)}
                onSelect={() => toggleOne(j.name)}
                act={act}
                reload={reload}
              />
            ))}
            {list.length === 0 && (
              <tr>
                <td colSpan={9} class="empty">
                  {data === undefined ? "Loading…" : "No job matches these filters."}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <div class="pager">
        <span id="range" data-fresh={String(fresh)}>{first}–{last} of {total}</span>
        <a
          class={`button ${f.page <= 1 ? "disabled" : ""}`}
          id="prev"
          href={linkOf({ ...f, page: Math.max(1, f.page - 1) })}
        >
          ‹ Prev
        </a>
        <span class="muted">page {shown.page} of {pages}</span>
        <a
          class={`button ${f.page >= pages ? "disabled" : ""}`}
          id="next"
          href={linkOf({ ...f, page: Math.min(pages, f.page + 1) })}
        >
          Next ›
        </a>
      </div>
    </section>
  );
}

/**
 * A text filter committed on Enter or leaving the field. Its text is its own while typing (the
 * table re-renders on every server change and must not wipe it) and follows the URL otherwise.
 */
function TextFilter(
  { id, value, size, placeholder, onCommit }: {
    id: string;
    value: string;
    size: number;
    placeholder?: string;
    onCommit: (v: string) => void;
  },
) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  return (
    <input
      id={id}
      value={text}
      size={size}
      placeholder={placeholder}
      onInput={(e) => setText((e.target as HTMLInputElement).value)}
      onChange={(e) => onCommit((e.target as HTMLInputElement).value.trim())}
    />
  );
}

function JobRow(
  { job, recent, selected, onSelect, act, reload }: {
    job: Job;
    recent: string[];
    selected: boolean;
    onSelect: () => void;
    act: (what: () => Promise<unknown>) => Promise<boolean>;
    reload: () => Promise<void>;
  },
) {
  const tags = Object.entries(job.tags);
  return (
    <tr
      data-nav
      data-job={job.name}
      class={`${selected ? "selected" : ""} ${job.disabled ? "is-disabled" : ""}`}
    >
      <td class="check">
        <input
          type="checkbox"
          aria-label={`Select ${job.name}`}
          checked={selected}
          onChange={onSelect}
        />
      </td>
      <td class="name">
        <a href={href(["jobs", job.name])}>{job.name}</a>
        {job.displayname !== "" && job.displayname !== job.name && (
          <div class="muted small">{job.displayname}</div>
        )}
      </td>
      <td class="status">
        <JobBadge status={job.status} />
        <div>
          <Strip statuses={recent} />
        </div>
      </td>
      <td class="row-actions">
        <button
          type="button"
          class="run"
          title={`Run ${job.name} now`}
          onClick={async () => {
            await act(() => jobs.runJob({ name: job.name }));
            await reload();
          }}
        >
          Run
        </button>
        <button
          type="button"
          class={`toggle ${job.disabled ? "off" : "on"}`}
          aria-pressed={!job.disabled}
          title={job.disabled ? "Disabled: click to enable" : "Enabled: click to disable"}
          onClick={async () => {
            await act(() => jobs.toggleJob({ name: job.name }));
            await reload();
          }}
        >
          {job.disabled ? "disabled" : "enabled"}
        </button>
      </td>
      <td class="wide">
        <code>{job.schedule || "—"}</code>
        <div class="muted small">
          {scheduleWords(job.schedule, job.parentJob)}
          {job.timezone !== "" ? ` (${job.timezone})` : ""}
        </div>
      </td>
      <td class="wide next">
        {job.disabled ? <span class="muted">— (disabled)</span> : <When ms={msOf(job.next)} />}
      </td>
      <td class={`wide num ${job.errorCount > 0n ? "bad-text" : "muted"}`}>
        {String(job.errorCount)}
      </td>
      <td class="wide">{job.owner}</td>
      <td class="wide tags">{tags.map(([k, v]) => <span key={k} class="tag">{k}={v}</span>)}</td>
    </tr>
  );
}
