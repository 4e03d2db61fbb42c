/**
 * The UI's client for Tock's Dkron-compatible REST API (`/v1`). Only the fields the page shows
 * are typed; errors carry the server's `{"error": "..."}` message when there is one.
 */

/** A job as GET /v1/jobs returns it (Dkron's field names). */
export interface ApiJob {
  name: string;
  displayname: string;
  timezone: string;
  schedule: string;
  success_count: number;
  error_count: number;
  last_success: string | null;
  last_error: string | null;
  disabled: boolean;
  status: string;
  next: string;
  executor: string;
  parent_job: string;
  concurrency: string;
}

/** An execution as GET /v1/jobs/:job/executions returns it. */
export interface ApiExecution {
  id: string;
  job_name: string;
  started_at: string;
  finished_at: string;
  success: boolean;
  output: string;
  node_name: string;
  attempt: number;
  output_truncated?: boolean;
  status?: string;
  exit_code?: number | null;
  output_size?: number;
  reason?: string;
}

export interface JobPage {
  jobs: ApiJob[];
  /** X-Total-Count: jobs matching the filter before paging. */
  total: number;
}

/** Bytes of output kept per execution in the list; the rest is fetched on demand. */
export const listOutputBytes = 4096;

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function request(url: string, init?: RequestInit): Promise<Response> {
  const res = await fetch(url, { ...init, headers: { accept: "application/json" } });
  if (!res.ok) {
    let message = `${init?.method ?? "GET"} ${url}: HTTP ${res.status}`;
    try {
      const body = await res.json() as { error?: unknown };
      if (typeof body.error === "string") message = body.error;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(res.status, message);
  }
  return res;
}

const enc = encodeURIComponent;

/** The Dkron-compatible client bound to one API base such as `/v1`. */
export function apiClient(base: string) {
  return {
    async listJobs(q: string, start: number, end: number): Promise<JobPage> {
      const params = new URLSearchParams({ _start: String(start), _end: String(end) });
      if (q !== "") params.set("q", q);
      const res = await request(`${base}/jobs?${params}`);
      const jobs = await res.json() as ApiJob[];
      const total = Number(res.headers.get("X-Total-Count") ?? jobs.length);
      return { jobs, total };
    },
    async executions(job: string): Promise<ApiExecution[]> {
      const res = await request(
        `${base}/jobs/${enc(job)}/executions?output_size_limit=${listOutputBytes}`,
      );
      return await res.json() as ApiExecution[];
    },
    async execution(job: string, id: string): Promise<ApiExecution> {
      const res = await request(`${base}/jobs/${enc(job)}/executions/${enc(id)}`);
      return await res.json() as ApiExecution;
    },
    async run(job: string): Promise<void> {
      await request(`${base}/jobs/${enc(job)}/run`, { method: "POST" });
    },
    async toggle(job: string): Promise<ApiJob> {
      const res = await request(`${base}/jobs/${enc(job)}/toggle`, { method: "POST" });
      return await res.json() as ApiJob;
    },
    async status(): Promise<{ agent?: { name?: string; version?: string } }> {
      const res = await request(`${base}/`);
      return await res.json() as { agent?: { name?: string; version?: string } };
    },
  };
}

export type ApiClient = ReturnType<typeof apiClient>;
