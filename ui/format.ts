/**
 * Pure display helpers for the UI: turning the API's Dkron-shaped fields (RFC3339 strings with
 * Go's zero time for "none", status words, byte counts) into short human text. No DOM here, so
 * bun test covers it directly.
 */

/** Go's zero time, which Dkron's API uses for "no value" (`next`, `finished_at`). */
export const zeroTime = "0001-01-01T00:00:00Z";

/** Epoch ms of an API time, or null for null, empty, zero time or an unparsable value. */
export function parseApiTime(value: string | null | undefined): number | null {
  if (value === null || value === undefined || value === "" || value === zeroTime) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/** "in 5s", "3m ago", "2h 5m ago", "in 4d 3h"; `nowMs` is passed in so tests need no clock. */
export function relativeTime(ms: number, nowMs: number): string {
  const delta = ms - nowMs;
  const abs = Math.abs(delta);
  if (abs < 1_000) return "now";
  const s = Math.floor(abs / 1_000);
  let text: string;
  if (s < 60) text = `${s}s`;
  else if (s < 3_600) {
    const m = Math.floor(s / 60);
    const rest = s % 60;
    text = rest === 0 ? `${m}m` : `${m}m ${rest}s`;
  } else if (s < 86_400) {
    const h = Math.floor(s / 3_600);
    const m = Math.floor((s % 3_600) / 60);
    text = m === 0 ? `${h}h` : `${h}h ${m}m`;
  } else {
    const d = Math.floor(s / 86_400);
    const h = Math.floor((s % 86_400) / 3_600);
    text = h === 0 ? `${d}d` : `${d}d ${h}h`;
  }
  return delta > 0 ? `in ${text}` : `${text} ago`;
}

/** Absolute time as "YYYY-MM-DD HH:MM:SS" in UTC or in the browser's zone (`utcOffsetMin`). */
export function absoluteTime(ms: number, utcOffsetMin = 0): string {
  const d = new Date(ms + utcOffsetMin * 60_000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/** The visual class of a status word; Dkron shows anything but success/failed as waiting. */
export type StatusTone = "ok" | "bad" | "warn" | "running" | "idle";

/** The last status of a job as Dkron's list shows it (`""` means never triggered). */
export function jobStatus(status: string): { label: string; tone: StatusTone } {
  switch (status) {
    case "success":
      return { label: "success", tone: "ok" };
    case "failed":
      return { label: "failed", tone: "bad" };
    case "partially_failed":
      return { label: "partially failed", tone: "warn" };
    case "running":
      return { label: "running", tone: "running" };
    case "":
      return { label: "waiting to run", tone: "idle" };
    default:
      return { label: status, tone: "idle" };
  }
}

/** The status of one execution; falls back to Dkron's fields when Tock's `status` is absent. */
export function executionStatus(
  e: { status?: string; success: boolean; finished_at: string },
): { label: string; tone: StatusTone } {
  const status = e.status ??
    (parseApiTime(e.finished_at) === null ? "running" : e.success ? "success" : "failed");
  switch (status) {
    case "success":
      return { label: "success", tone: "ok" };
    case "failed":
      return { label: "failed", tone: "bad" };
    case "running":
      return { label: "running", tone: "running" };
    case "missed":
      return { label: "missed", tone: "warn" };
    case "lost":
      return { label: "lost", tone: "warn" };
    default:
      return { label: status, tone: "idle" };
  }
}

/** "532 B", "1.2 KiB", "3.4 MiB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

/** Duration between two API times as "850 ms", "12.3 s", "4m 2s"; "" when unfinished. */
export function runDuration(startedAt: string, finishedAt: string): string {
  const a = parseApiTime(startedAt);
  const b = parseApiTime(finishedAt);
  if (a === null || b === null || b < a) return "";
  const ms = b - a;
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const s = Math.round(ms / 1_000);
  return `${Math.floor(s / 60)}m ${s % 60}s`;
}

/**
 * The API base for a page served at `<prefix>/ui/...`: `<prefix>/v1`. Computed from the page's
 * path (not hard-coded to `/v1`) so the UI keeps working behind a reverse proxy sub-path, as
 * Dkron's `../v1` does, and from any fallback path under /ui/.
 */
export function apiBase(pathname: string): string {
  const i = pathname.indexOf("/ui/");
  if (i >= 0) return `${pathname.slice(0, i)}/v1`;
  if (pathname.endsWith("/ui")) return `${pathname.slice(0, -3)}/v1`;
  return "/v1";
}

/** The path prefix the API lives under for a page at `<prefix>/ui/...` ("" at the root). */
export function apiPrefix(pathname: string): string {
  return apiBase(pathname).slice(0, -"/v1".length);
}

/** A duration in ms as "850 ms", "12.3 s", "4m 2s", "2h 5m". */
export function durationText(ms: number): string {
  if (ms < 0) ms = 0;
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const s = Math.round(ms / 1_000);
  if (s < 3_600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3_600)}h ${Math.floor((s % 3_600) / 60)}m`;
}

/** A wall-clock time of an instant in an IANA zone ("" = UTC, as the server reads it). */
export function zonedTime(ms: number, timeZone: string | undefined): string {
  const zone = timeZone === "" || timeZone === "Local" ? "UTC" : timeZone;
  try {
    return new Intl.DateTimeFormat("sv-SE", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hour12: false,
    }).format(new Date(ms));
  } catch {
    return absoluteTime(ms);
  }
}

/**
 * Parses "k=v" lines (or comma-separated pairs) into a map; blank lines are skipped. Returns an
 * error naming the first line without "=".
 */
export function parsePairs(text: string): { map: Record<string, string> } | { error: string } {
  const map: Record<string, string> = {};
  for (const raw of text.split(/[\n,]/)) {
    const line = raw.trim();
    if (line === "") continue;
    const eq = line.indexOf("=");
    if (eq <= 0) return { error: `"${line}" is not key=value` };
    map[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return { map };
}

/** A map as "k=v" lines (sorted by key), the inverse of parsePairs. */
export function formatPairs(map: Record<string, string> | null | undefined): string {
  return Object.keys(map ?? {}).sort().map((k) => `${k}=${(map ?? {})[k]}`).join("\n");
}

/** Which form field a server validation message is about, by the words it uses. */
const messageFields: Array<[RegExp, string]> = [
  [/field "([a-z_]+)/, "$1"],
  [/job schedule|\bschedule\b/, "schedule"],
  [/time zone|timezone/, "timezone"],
  [/\bparent/, "parent_job"],
  [/\bcommand\b|executor_config/, "executor_config"],
  [/\bexecutor\b/, "executor"],
  [/\bconcurrency\b/, "concurrency"],
  [/\b(starting_deadline|retry_delay_max|retry_delay|misfire_policy|retries)\b/, "$1"],
  [/^Job validation failed: name\b/, "name"],
];

/** The form field a server validation message names, or null when it names none. */
export function fieldOfMessage(message: string): string | null {
  for (const [re, field] of messageFields) {
    const m = re.exec(message);
    if (m === null) continue;
    return field.startsWith("$") ? (m[Number(field.slice(1))] ?? null) : field;
  }
  return null;
}
