/** Spec parsing and slot computation; the public surface and its documentation are in mod.ts. */
import {
  assert,
  assertNever,
  formatGoDuration,
  invalid,
  limits,
  parseGoDuration,
} from "../lib/mod.ts";
import { type Compiled, compileFields, expandHashes, nextWall } from "./_cron.ts";
import { canonicalZone, resolveWall, wallAt } from "./_zone.ts";

/** A parsed schedule: plain JSON-serialisable data; `spec` is normalized (no H, ~ or names of descriptors). */
export type Schedule =
  | { kind: "cron"; spec: string; timezone: string }
  | { kind: "every"; spec: string; timezone: string; intervalMs: number }
  | { kind: "at"; spec: string; timezone: string; atMs: number }
  | { kind: "manual"; spec: string; timezone: string };

/** What parseSchedule needs besides the spec: the job name (for ~ and H) and its timezone. */
export interface ScheduleOptions {
  jobName: string;
  timezone: string;
}

const descriptors: Record<string, string> = {
  "@yearly": "0 0 0 1 1 *",
  "@annually": "0 0 0 1 1 *",
  "@monthly": "0 0 0 1 * *",
  "@weekly": "0 0 0 * * 0",
  "@daily": "0 0 0 * * *",
  "@midnight": "0 0 0 * * *",
  "@hourly": "0 0 * * * *",
  "@minutely": "0 * * * * *",
};

const rfc3339Re =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function parseAt(text: string): number | undefined {
  const m = rfc3339Re.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  if ((mo as number) < 1 || (mo as number) > 12 || (d as number) < 1) return undefined;
  if ((h as number) > 23 || (mi as number) > 59 || (s as number) > 59) return undefined;
  const probe = new Date(Date.UTC(y as number, (mo as number) - 1, d as number));
  if (probe.getUTCDate() !== d) return undefined;
  const ms = Date.parse(text.toUpperCase());
  return Number.isNaN(ms) ? undefined : ms;
}

const compiledCache = new Map<string, Compiled>();

function remember(spec: string, c: Compiled): void {
  if (compiledCache.size >= limits.scheduleCacheMax) {
    const oldest = compiledCache.keys().next().value;
    if (oldest !== undefined) compiledCache.delete(oldest);
  }
  compiledCache.set(spec, c);
}

function compiledOf(spec: string): Compiled {
  let c = compiledCache.get(spec);
  if (c === undefined) {
    c = compileFields(spec.split(" "), (m) => {
      throw new Error(`normalized spec "${spec}" does not compile: ${m}`);
    });
    remember(spec, c);
  }
  return c;
}

/**
 * Parses a job's schedule. Throws invalid() with a message naming the spec and the problem,
 * e.g. `schedule "61 * * * * *": seconds value 61 out of range 0-59`.
 */
export function parseSchedule(spec: string, opts: ScheduleOptions): Schedule {
  const fail = (problem: string): never => {
    throw invalid(`schedule "${spec}": ${problem}`);
  };
  if (spec.length > limits.scheduleCharsMax) {
    fail(`longer than ${limits.scheduleCharsMax} characters`);
  }
  let timezone: string;
  try {
    timezone = canonicalZone(opts.timezone);
  } catch {
    throw invalid(`timezone "${opts.timezone}": unknown time zone "${opts.timezone}"`);
  }
  let rest = spec.trim();
  const tz = /^(?:CRON_TZ|TZ)=(\S*)(?:\s+|$)/.exec(rest);
  if (tz) {
    const zone = tz[1] as string;
    if (zone === "") fail("empty time zone in TZ= prefix");
    try {
      timezone = canonicalZone(zone);
    } catch {
      fail(`unknown time zone "${zone}"`);
    }
    rest = rest.slice(tz[0].length);
  }
  if (rest === "") fail("is empty");
  if (rest.startsWith("@")) {
    const [word, ...args] = rest.split(/\s+/) as [string, ...string[]];
    const arg = args.join(" ");
    if (word === "@manually") {
      if (arg !== "") fail("@manually takes no argument");
      return { kind: "manual", spec: "@manually", timezone };
    }
    if (word === "@every") {
      if (arg === "") fail("@every needs a duration, e.g. @every 10s");
      let ms: number;
      try {
        ms = parseGoDuration(arg);
      } catch {
        return fail(`"${arg}" is not a duration (e.g. 1h30m10s)`);
      }
      const intervalMs = Math.floor(ms / 1000) * 1000;
      if (intervalMs < 1000) fail(`@every interval ${arg} is below the 1s minimum`);
      if (intervalMs > limits.everyIntervalMsMax) {
        fail(
          `@every interval ${arg} is above the ${
            formatGoDuration(limits.everyIntervalMsMax)
          } maximum`,
        );
      }
      return {
        kind: "every",
        spec: `@every ${formatGoDuration(intervalMs)}`,
        timezone,
        intervalMs,
      };
    }
    if (word === "@at") {
      const atMs = parseAt(arg);
      if (atMs === undefined) fail(`"${arg}" is not an RFC3339 time (2006-01-02T15:04:05Z07:00)`);
      return { kind: "at", spec: `@at ${arg}`, timezone, atMs: atMs as number };
    }
    const expanded = descriptors[word];
    if (expanded === undefined) fail(`unknown descriptor "${word}"`);
    if (arg !== "") fail(`${word} takes no argument`);
    compiledOf(expanded as string);
    return { kind: "cron", spec: expanded as string, timezone };
  }
  const fields = rest.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    fail(`has ${fields.length} fields, expected 5 or 6`);
  }
  if (fields.length === 5) fields.unshift("0");
  const plain = fields.map((f, i) => expandHashes(f, i, opts.jobName, fail));
  const normalized = plain.join(" ");
  if (!compiledCache.has(normalized)) remember(normalized, compileFields(plain, fail));
  return { kind: "cron", spec: normalized, timezone };
}

/** The first slot at or after `t` (epoch ms), or undefined when there is none. */
function slotAtOrAfter(s: Schedule, t: number): number | undefined {
  switch (s.kind) {
    case "manual":
      return undefined;
    case "at":
      return s.atMs >= t ? s.atMs : undefined;
    case "every":
      return Math.ceil(t / s.intervalMs) * s.intervalMs;
    case "cron":
      return cronAtOrAfter(s, t);
    default:
      return assertNever(s, "schedule kind");
  }
}

function cronAtOrAfter(s: Schedule & { kind: "cron" }, t: number): number | undefined {
  const c = compiledOf(s.spec);
  const t0 = Math.ceil(t / 1000) * 1000;
  if (s.timezone === "UTC") return nextWall(c, t0, limits.scheduleSearchYearsMax); // wall = instant
  let from = wallAt(s.timezone, t0);
  const horizon = from + (limits.scheduleSearchYearsMax + 1) * 366 * 86_400_000;
  while (from < horizon) {
    const w = nextWall(c, from, limits.scheduleSearchYearsMax);
    if (w === undefined) return undefined;
    const r = resolveWall(s.timezone, w);
    switch (r.kind) {
      case "one":
        if (r.t >= t0) return r.t;
        from = w + 1000; // cannot happen outside a repeated hour; stay safe and move on
        break;
      case "twice":
        if (r.t >= t0) return r.t;
        // We are inside the repetition: its wall times already fired at their first occurrence.
        from = Math.max(w + 1000, r.repeatEndWall);
        break;
      case "gap":
        assert(r.resumeWall > w, `gap resume ${r.resumeWall} not after ${w}`);
        from = r.resumeWall;
        break;
      default:
        assertNever(r, "wall resolution");
    }
  }
  return undefined;
}

function checkCount(n: number, what: string): void {
  assert(Number.isInteger(n) && n >= 0, `${what} must be a non-negative integer, got ${n}`);
  assert(n <= limits.slotsPerCallMax, `${what} ${n} is above slotsPerCallMax`);
}

/** The next slot strictly after `afterMs`, or undefined (manual, past @at, never again). */
export function nextSlot(s: Schedule, afterMs: number): number | undefined {
  assert(Number.isFinite(afterMs), `afterMs must be finite, got ${afterMs}`);
  return slotAtOrAfter(s, Math.floor(afterMs) + 1);
}

/** The next `n` (<= limits.slotsPerCallMax) slots strictly after `afterMs`, ascending; fewer when the schedule ends. */
export function nextSlots(s: Schedule, afterMs: number, n: number): number[] {
  checkCount(n, "n");
  const out: number[] = [];
  let t = afterMs;
  while (out.length < n) {
    const next = nextSlot(s, t);
    if (next === undefined) break;
    out.push(next);
    t = next;
  }
  return out;
}

/**
 * The slots in [fromMs, toMs), ascending, at most `limit` (<= limits.slotsPerCallMax) of them:
 * the earliest ones. For the latest ones (catch-up) use lastSlots or planCatchUp.
 */
export function slotsBetween(s: Schedule, fromMs: number, toMs: number, limit: number): number[] {
  checkCount(limit, "limit");
  assert(Number.isFinite(fromMs) && Number.isFinite(toMs), "slotsBetween bounds must be finite");
  const out: number[] = [];
  let t = slotAtOrAfter(s, Math.ceil(fromMs));
  while (t !== undefined && t < toMs && out.length < limit) {
    out.push(t);
    t = slotAtOrAfter(s, t + 1);
  }
  return out;
}

/**
 * Create-time check: an `@at` schedule at or before `nowMs` can never fire, so creating the
 * job is a client error (Dkron answers 400). Other kinds always pass. The caller passes now.
 */
export function validateAtNotPast(s: Schedule, nowMs: number): void {
  if (s.kind === "at" && s.atMs <= nowMs) {
    throw invalid(
      `schedule "${s.spec}": @at time ${new Date(s.atMs).toISOString()} is not after now (${
        new Date(nowMs).toISOString()
      })`,
    );
  }
}
