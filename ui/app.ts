/**
 * Tock's web UI: the job list (schedule, next run, last status, counts, enabled state, run and
 * toggle buttons) and the executions of a selected job with their output. Plain DOM, no
 * framework; every value from the API is inserted as text, never as HTML.
 */
import {
  type ApiClient,
  apiClient,
  type ApiExecution,
  type ApiJob,
  listOutputBytes,
} from "./api.ts";
import {
  absoluteTime,
  apiBase,
  executionStatus,
  formatBytes,
  jobStatus,
  parseApiTime,
  relativeTime,
  runDuration,
  type StatusTone,
} from "./format.ts";

/** Milliseconds between refreshes of the visible data. */
const refreshMs = 2_000;
/** Jobs per page of the list. */
const pageSize = 25;

interface State {
  query: string;
  page: number;
  total: number;
  jobs: ApiJob[];
  selected: string | null;
  executions: ApiExecution[];
  /** Execution ids whose output is unfolded; kept across refreshes. */
  open: Set<string>;
  /** Full output fetched on demand for truncated executions, by execution id. */
  fullOutput: Map<string, string>;
  error: string;
  loaded: boolean;
}

type Child = Node | string | null | undefined | false;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c);
  }
  return node;
}

function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`tock ui: element #${id} missing from index.html`);
  return node as T;
}

function localTime(ms: number): string {
  return absoluteTime(ms, -new Date(ms).getTimezoneOffset());
}

function badge(label: string, tone: StatusTone): HTMLElement {
  return el("span", { class: `badge ${tone}` }, label);
}

/** A time cell: relative text, absolute local time on hover; "—" for none. */
function timeCell(value: string | null, nowMs: number): HTMLElement {
  const ms = parseApiTime(value);
  if (ms === null) return el("td", { class: "muted" }, "—");
  return el("td", { title: localTime(ms) }, relativeTime(ms, nowMs));
}

function selectedFromHash(): string | null {
  const m = /^#\/jobs\/(.+)$/.exec(location.hash);
  if (!m || m[1] === undefined) return null;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return null;
  }
}

class App {
  #api: ApiClient;
  #state: State = {
    query: "",
    page: 0,
    total: 0,
    jobs: [],
    selected: selectedFromHash(),
    executions: [],
    open: new Set(),
    fullOutput: new Map(),
    error: "",
    loaded: false,
  };
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inFlight = false;
  #again = false;

  constructor(api: ApiClient) {
    this.#api = api;
  }

  start(): void {
    const search = byId<HTMLInputElement>("search");
    search.addEventListener("input", () => {
      this.#state.query = search.value.trim();
      this.#state.page = 0;
      void this.refresh();
    });
    byId("prev").addEventListener("click", () => {
      this.#state.page = Math.max(0, this.#state.page - 1);
      void this.refresh();
    });
    byId("next").addEventListener("click", () => {
      this.#state.page += 1;
      void this.refresh();
    });
    byId("close-executions").addEventListener("click", () => this.select(null));
    addEventListener("hashchange", () => {
      const name = selectedFromHash();
      if (name !== this.#state.selected) this.select(name);
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) void this.refresh();
    });
    void this.#status();
    void this.refresh();
  }

  select(name: string | null): void {
    if (name === this.#state.selected) return;
    this.#state.selected = name;
    this.#state.executions = [];
    this.#state.open.clear();
    this.#state.fullOutput.clear();
    const hash = name === null ? "#/" : `#/jobs/${encodeURIComponent(name)}`;
    if (location.hash !== hash) history.replaceState(null, "", hash);
    this.#render();
    void this.refresh();
  }

  /** Fetches the visible data and re-renders; coalesces calls made while one is in flight. */
  async refresh(): Promise<void> {
    if (this.#inFlight) {
      this.#again = true;
      return;
    }
    this.#inFlight = true;
    clearTimeout(this.#timer);
    try {
      const s = this.#state;
      const page = await this.#api.listJobs(s.query, s.page * pageSize, (s.page + 1) * pageSize);
      if (page.jobs.length === 0 && s.page > 0 && page.total > 0) {
        s.page = Math.floor((page.total - 1) / pageSize);
        this.#again = true;
      }
      s.jobs = page.jobs;
      s.total = page.total;
      const selected = s.selected;
      if (selected !== null) {
        try {
          const list = await this.#api.executions(selected);
          if (s.selected === selected) s.executions = list;
        } catch (e) {
          if (s.selected === selected) s.executions = [];
          throw e;
        }
      }
      s.error = "";
    } catch (e) {
      this.#state.error = e instanceof Error ? e.message : String(e);
    } finally {
      this.#state.loaded = true;
      this.#inFlight = false;
      this.#render();
      if (this.#again) {
        this.#again = false;
        void this.refresh();
      } else {
        // A hidden tab stops polling; visibilitychange resumes it.
        if (!document.hidden) this.#timer = setTimeout(() => void this.refresh(), refreshMs);
      }
    }
  }

  async #status(): Promise<void> {
    try {
      const st = await this.#api.status();
      const agent = st.agent ?? {};
      byId("node").textContent = `${agent.name ?? "?"} · v${agent.version ?? "?"}`;
    } catch {
      byId("node").textContent = "node unreachable";
    }
  }

  async #act(button: HTMLButtonElement, what: () => Promise<unknown>): Promise<void> {
    button.disabled = true;
    try {
      await what();
      this.#state.error = "";
    } catch (e) {
      this.#state.error = e instanceof Error ? e.message : String(e);
    } finally {
      button.disabled = false;
      await this.refresh();
    }
  }

  #render(): void {
    const s = this.#state;
    const nowMs = Date.now();
    const banner = byId("error");
    banner.textContent = s.error;
    banner.hidden = s.error === "";

    const body = byId<HTMLTableSectionElement>("jobs-body");
    const rows = s.jobs.map((job) => this.#jobRow(job, nowMs));
    if (rows.length === 0) {
      const text = !s.loaded
        ? "Loading…"
        : s.query !== ""
        ? `No job matches "${s.query}".`
        : "No jobs yet. Create one with POST /v1/jobs.";
      rows.push(el("tr", {}, el("td", { colspan: "8", class: "empty" }, text)));
    }
    body.replaceChildren(...rows);

    const first = s.total === 0 ? 0 : s.page * pageSize + 1;
    const last = Math.min(s.total, (s.page + 1) * pageSize);
    byId("range").textContent = `${first}–${last} of ${s.total}`;
    byId<HTMLButtonElement>("prev").disabled = s.page === 0;
    byId<HTMLButtonElement>("next").disabled = last >= s.total;

    const panel = byId("executions");
    panel.hidden = s.selected === null;
    if (s.selected !== null) this.#renderExecutions(s.selected, nowMs);
  }

  #jobRow(job: ApiJob, nowMs: number): HTMLTableRowElement {
    const st = jobStatus(job.status);
    const run = el("button", { class: "run", title: `Run ${job.name} now` }, "Run now");
    run.addEventListener("click", (ev) => {
      ev.stopPropagation();
      this.select(job.name);
      void this.#act(run, () => this.#api.run(job.name));
    });
    const toggle = el(
      "button",
      {
        class: `toggle ${job.disabled ? "off" : "on"}`,
        title: job.disabled ? "Disabled: click to enable" : "Enabled: click to disable",
        "aria-pressed": String(!job.disabled),
      },
      job.disabled ? "disabled" : "enabled",
    );
    toggle.addEventListener("click", (ev) => {
      ev.stopPropagation();
      void this.#act(toggle, () => this.#api.toggle(job.name));
    });
    const lastRun = [job.last_success, job.last_error]
      .map(parseApiTime)
      .filter((x): x is number => x !== null)
      .sort((a, b) => b - a)[0];
    const name = el(
      "td",
      { class: "name" },
      el("a", { href: `#/jobs/${encodeURIComponent(job.name)}` }, job.name),
      job.displayname !== "" && job.displayname !== job.name
        ? el("div", { class: "muted small" }, job.displayname)
        : null,
    );
    const row = el(
      "tr",
      {
        "data-job": job.name,
        class: `${job.name === this.#state.selected ? "selected" : ""} ${
          job.disabled ? "is-disabled" : ""
        }`.trim(),
      },
      name,
      el(
        "td",
        { class: "mono" },
        job.schedule,
        job.timezone !== "" ? el("div", { class: "muted small" }, job.timezone) : null,
      ),
      job.disabled ? el("td", { class: "muted next" }, "— (disabled)") : timeCell(job.next, nowMs),
      el(
        "td",
        { class: "status" },
        badge(st.label, st.tone),
        lastRun !== undefined
          ? el(
            "div",
            { class: "muted small", title: localTime(lastRun) },
            relativeTime(lastRun, nowMs),
          )
          : null,
      ),
      el(
        "td",
        { class: `num ${job.success_count > 0 ? "ok-text" : "muted"}` },
        String(job.success_count),
      ),
      el(
        "td",
        { class: `num ${job.error_count > 0 ? "bad-text" : "muted"}` },
        String(job.error_count),
      ),
      el("td", {}, toggle),
      el("td", {}, run),
    );
    row.addEventListener("click", () => this.select(job.name));
    return row;
  }

  #renderExecutions(job: string, nowMs: number): void {
    const s = this.#state;
    byId("executions-title").textContent = `Executions of ${job}`;
    const rows: HTMLElement[] = [];
    for (const e of s.executions) {
      const st = executionStatus(e);
      const started = parseApiTime(e.started_at);
      const details = el("details", {});
      if (s.open.has(e.id)) details.open = true;
      details.addEventListener("toggle", () => {
        if (details.open) s.open.add(e.id);
        else s.open.delete(e.id);
      });
      const full = s.fullOutput.get(e.id);
      const output = full ?? e.output;
      const size = e.output_size ?? new TextEncoder().encode(e.output).length;
      details.append(
        el("summary", {}, output === "" ? "no output" : `output (${formatBytes(size)})`),
        el("pre", { class: "output" }, output === "" ? "Nothing to show" : output),
      );
      if (full === undefined && e.output_truncated === true) {
        const more = el(
          "button",
          { class: "more" },
          `Load full output (showing last ${formatBytes(listOutputBytes)})`,
        );
        more.addEventListener("click", () =>
          void this.#act(more, async () => {
            const one = await this.#api.execution(job, e.id);
            s.fullOutput.set(e.id, one.output);
          }));
        details.append(more);
      }
      rows.push(el(
        "tr",
        { "data-execution": e.id },
        el("td", { class: "mono" }, e.id),
        started === null
          ? el("td", { class: "muted" }, "—")
          : el("td", { title: localTime(started) }, relativeTime(started, nowMs)),
        el("td", {}, runDuration(e.started_at, e.finished_at)),
        el("td", {}, e.node_name),
        el(
          "td",
          {},
          badge(st.label, st.tone),
          e.reason ? el("div", { class: "muted small" }, e.reason) : null,
        ),
        el(
          "td",
          { class: "num" },
          e.exit_code === null || e.exit_code === undefined ? "" : String(e.exit_code),
        ),
        el("td", { class: "out" }, details),
      ));
    }
    if (rows.length === 0) {
      rows.push(el("tr", {}, el("td", { colspan: "7", class: "empty" }, "No executions yet.")));
    }
    byId<HTMLTableSectionElement>("executions-body").replaceChildren(...rows);
  }
}

new App(apiClient(apiBase(location.pathname))).start();
