/** The CLI's REST client commands: job ls|get|apply|run|delete|toggle, exec ls|get. */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { invalid } from "../lib/mod.ts";
import { type Connection, send } from "./http_client.ts";

export interface ClientIo extends Connection {
  out(line: string): void;
}

export async function call(
  io: ClientIo,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; data: unknown; execution: string | undefined }> {
  const res = await send(io, method, path, body === undefined ? undefined : JSON.stringify(body));
  const text = res.text;
  let data: unknown = text;
  try {
    data = JSON.parse(text);
  } catch { /* non-JSON body: keep the text */ }
  if (res.status >= 400) {
    const msg = data && typeof data === "object" && "error" in data
      ? String((data as { error: unknown }).error)
      : text;
    throw invalid(`${method} ${path}: ${res.status} ${msg}`);
  }
  return { status: res.status, data, execution: res.header("x-execution-id") };
}

const enc = encodeURIComponent;
const pad = (s: string, n: number) => s.length >= n ? s + " " : s + " ".repeat(n - s.length);

function table(io: ClientIo, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)) + 1
  );
  io.out(header.map((h, i) => pad(h, widths[i] as number)).join("").trimEnd());
  for (const r of rows) io.out(r.map((c, i) => pad(c, widths[i] as number)).join("").trimEnd());
}

type J = Record<string, unknown>;

export async function jobCommand(
  io: ClientIo,
  sub: string | undefined,
  args: string[],
  file: string | undefined,
  force = false,
): Promise<void> {
  const name = args[0];
  const needName = () => {
    if (!name) throw invalid(`tock job ${sub}: missing job name`);
    return name;
  };
  switch (sub) {
    case "ls":
    case "list": {
      const { data } = await call(io, "GET", "/v1/jobs");
      const jobs = data as J[];
      table(
        io,
        ["NAME", "SCHEDULE", "NEXT", "STATUS", "SUCCESS", "ERROR", "DISABLED"],
        jobs.map((j) => [
          String(j["name"]),
          String(j["schedule"]),
          String(j["next"]),
          String(j["status"] || "untriggered"),
          String(j["success_count"]),
          String(j["error_count"]),
          String(j["disabled"]),
        ]),
      );
      return;
    }
    case "get":
      io.out(JSON.stringify((await call(io, "GET", `/v1/jobs/${enc(needName())}`)).data, null, 2));
      return;
    case "apply": {
      if (!file) {
        throw invalid("tock job apply: missing -f FILE (a job or a list of jobs, JSON or YAML)");
      }
      let doc: unknown;
      try {
        const text = readFileSync(file, "utf8");
        doc = file.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
      } catch (e) {
        throw invalid(`tock job apply: cannot read ${file}: ${(e as Error).message}`);
      }
      for (const job of Array.isArray(doc) ? doc : [doc]) {
        const { data } = await call(io, "POST", "/v1/jobs", job);
        io.out(`job "${(data as J)["name"]}" applied`);
      }
      return;
    }
    case "run": {
      const q = force ? "?force=true" : "";
      const res = await call(io, "POST", `/v1/jobs/${enc(needName())}/run${q}`);
      io.out(`job "${name}" started${res.execution ? ` (execution ${res.execution})` : ""}`);
      return;
    }
    case "next": {
      const { data } = await call(
        io,
        "GET",
        `/v1/jobs/${enc(needName())}/next?n=${args[1] ?? "5"}`,
      );
      for (const t of data as string[]) io.out(t);
      return;
    }
    case "delete":
      await call(io, "DELETE", `/v1/jobs/${enc(needName())}`);
      io.out(`job "${name}" deleted`);
      return;
    case "toggle": {
      const { data } = await call(io, "POST", `/v1/jobs/${enc(needName())}/toggle`);
      io.out(`job "${name}" ${(data as J)["disabled"] ? "disabled" : "enabled"}`);
      return;
    }
    default:
      throw invalid(
        `tock job: unknown subcommand "${
          sub ?? ""
        }"; use ls, get, apply -f FILE, run, delete, toggle`,
      );
  }
}

export async function execCommand(
  io: ClientIo,
  sub: string | undefined,
  args: string[],
): Promise<void> {
  const [job, id] = args;
  if (!job) throw invalid(`tock exec ${sub ?? ""}: missing job name`);
  switch (sub) {
    case "ls":
    case "list": {
      const { data } = await call(io, "GET", `/v1/jobs/${enc(job)}/executions?output_size_limit=0`);
      table(
        io,
        ["ID", "STATUS", "STARTED", "FINISHED", "NODE", "ATTEMPT"],
        (data as J[]).map((e) => [
          String(e["id"]),
          String(e["status"]),
          String(e["started_at"]),
          String(e["finished_at"]),
          String(e["node_name"]),
          String(e["attempt"]),
        ]),
      );
      return;
    }
    case "get": {
      if (!id) throw invalid("tock exec get: missing execution id");
      io.out(
        JSON.stringify(
          (await call(io, "GET", `/v1/jobs/${enc(job)}/executions/${enc(id)}`)).data,
          null,
          2,
        ),
      );
      return;
    }
    case "kill": {
      if (!id) throw invalid("tock exec kill: missing execution id");
      const { data } = await call(io, "POST", `/v1/jobs/${enc(job)}/executions/${enc(id)}/kill`);
      io.out(`execution ${id} of job "${job}" killed (${(data as J)["status"]})`);
      return;
    }
    default:
      throw invalid(
        `tock exec: unknown subcommand "${sub ?? ""}"; use ls JOB, get JOB ID or kill JOB ID`,
      );
  }
}
