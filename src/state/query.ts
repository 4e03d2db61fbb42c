/**
 * GET /v1/jobs filtering, sorting and paging (reference/dkron.md §1.6), over plain jobs.
 * Where Dkron crashed (bad _start/_end, unknown _sort) this answers with a clear invalid error.
 */
import { invalid } from "../lib/mod.ts";
import type { Job } from "./job.ts";

export interface JobQuery {
  q?: string;
  metadata?: Record<string, string>;
  status?: string;
  disabled?: string;
  sort?: string;
  order?: string;
  start?: string;
  end?: string;
  /** Every pair must be among the job's tags. */
  tags?: Record<string, string>;
  /** Exact owner. */
  owner?: string;
  /** Only jobs whose last_error is at or after this instant (epoch ms; "failed in the last hour"). */
  failedSinceMs?: number;
}

export const sortableJobFields = [
  "name",
  "displayname",
  "schedule",
  "success_count",
  "error_count",
  "last_success",
  "last_error",
  "next",
] as const;

type SortField = (typeof sortableJobFields)[number];

function index(field: "_start" | "_end", value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  if (!/^\d+$/.test(value)) {
    throw invalid(`query parameter ${field} must be a non-negative integer, got "${value}"`);
  }
  return Number(value);
}

/**
 * Returns the page and the total after filtering (for X-Total-Count). `byName` says `all` is
 * already in name order (the store keeps it), so a list by name needs no sort.
 */
export function queryJobs(
  all: readonly Job[],
  query: JobQuery,
  byName = false,
): { jobs: Job[]; total: number } {
  let sortField: SortField = "name";
  if (query.sort !== undefined && query.sort !== "" && query.sort !== "id") {
    if (!(sortableJobFields as readonly string[]).includes(query.sort)) {
      throw invalid(
        `query parameter _sort "${query.sort}" is not sortable; use one of id, ${
          sortableJobFields.join(", ")
        }`,
      );
    }
    sortField = query.sort as SortField;
  }
  const meta = Object.entries(query.metadata ?? {});
  const tags = Object.entries(query.tags ?? {});
  const failedSince = query.failedSinceMs;
  const filtering = !!query.q || meta.length > 0 || tags.length > 0 || !!query.owner ||
    failedSince !== undefined || !!query.status || !!query.disabled;
  // Without filters the list is `all` itself (no copy of 100k jobs); it is never mutated here.
  const filtered: readonly Job[] = !filtering ? all : all.filter((j) => {
    if (query.q && !j.name.includes(query.q) && !j.displayname.includes(query.q)) return false;
    if (meta.length > 0) {
      if (!j.metadata) return false;
      for (const [k, v] of meta) if (j.metadata[k] !== v) return false;
    }
    if (tags.length > 0) {
      if (!j.tags) return false;
      for (const [k, v] of tags) if (j.tags[k] !== v) return false;
    }
    if (query.owner !== undefined && query.owner !== "" && j.owner !== query.owner) return false;
    if (failedSince !== undefined && (j.last_error === null || j.last_error < failedSince)) {
      return false;
    }
    if (query.status !== undefined && query.status !== "") {
      const want = query.status === "untriggered" ? "" : query.status;
      if (j.status !== want) return false;
    }
    if (
      query.disabled !== undefined && query.disabled !== "" && String(j.disabled) !== query.disabled
    ) {
      return false;
    }
    return true;
  });
  const desc = query.order === "DESC";
  const sorted: readonly Job[] = byName && sortField === "name"
    ? (desc ? [...filtered].reverse() : filtered)
    : sortJobs(filtered, sortField, desc);
  const total = sorted.length;
  const start = index("_start", query.start, 0);
  const end = Math.min(index("_end", query.end, total), total);
  if (query.end !== undefined && query.end !== "" && start > Number(query.end)) {
    throw invalid(`query parameter _start (${start}) is greater than _end (${query.end})`);
  }
  return { jobs: start >= end ? [] : sorted.slice(start, end), total };
}

/**
 * Jobs ordered by a field, ties by name; `desc` reverses the whole order. Lists run to 100k
 * jobs, so the common case avoids a comparator over objects: names are unique, so they sort
 * with the engine's native string order (the same code-unit order as `<`), and other fields
 * sort an index array over precomputed keys.
 */
export function sortJobs(jobs: readonly Job[], field: SortField, desc: boolean): Job[] {
  if (field === "name") {
    const byName = new Map<string, Job>();
    for (const j of jobs) byName.set(j.name, j);
    const names = jobs.map((j) => j.name).sort();
    if (desc) names.reverse();
    return names.map((n) => byName.get(n) as Job);
  }
  const keys = jobs.map((j): string | number => j[field] ?? -Infinity);
  const order = jobs.map((_, i) => i);
  order.sort((a, b) => {
    const ka = keys[a] as string | number, kb = keys[b] as string | number;
    const na = (jobs[a] as Job).name, nb = (jobs[b] as Job).name;
    const c = ka < kb ? -1 : ka > kb ? 1 : na < nb ? -1 : na > nb ? 1 : 0;
    return desc ? -c : c;
  });
  return order.map((i) => jobs[i] as Job);
}
