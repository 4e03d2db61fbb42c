/**
 * Time-zone arithmetic for the schedule core: the UTC offset of a zone at an instant, and the
 * instants that show a given wall time. Pure: the zone rules come from Intl (ICU tzdata), the
 * instants come from the caller. Offsets are cached per zone in one-hour buckets, so a heap of
 * many jobs in the same zone costs one Intl call per hour of schedule, not one per job.
 */
import { assert, invalid, limits } from "../lib/mod.ts";

const hourMs = 3_600_000;
const dayMs = 86_400_000;

/** A resolved zone: "UTC", "Local" (the host's zone) or a canonical IANA name. */
interface Zone {
  readonly name: string;
  readonly fmt: Intl.DateTimeFormat | undefined; // undefined for UTC: offset is always 0
  readonly buckets: Map<number, number>; // hour bucket -> offset ms, NaN when it holds a change
}

const zones = new Map<string, Zone>();
const canonicalNames = new Map<string, string>(); // zone name as written -> canonical name

function makeFormat(timeZone: string | undefined): Intl.DateTimeFormat {
  const opts: Intl.DateTimeFormatOptions = {
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  };
  if (timeZone !== undefined) opts.timeZone = timeZone;
  return new Intl.DateTimeFormat("en-US", opts);
}

/**
 * The canonical name of a zone as Tock stores it. "" becomes "UTC"; "Local" stays "Local".
 * Throws invalid() naming the zone when it is unknown.
 */
export function canonicalZone(name: string): string {
  if (name === "" || name === "UTC") return "UTC";
  if (name === "Local") return "Local";
  const cached = canonicalNames.get(name);
  if (cached !== undefined) return cached;
  let resolved: string;
  try {
    resolved = makeFormat(name).resolvedOptions().timeZone;
  } catch {
    throw invalid(`unknown time zone "${name}"`);
  }
  const canonical = resolved === "Etc/UTC" || resolved === "Etc/GMT" ? "UTC" : resolved;
  // Only known zones are remembered, and there are a few hundred of them: the map stays small.
  canonicalNames.set(name, canonical);
  return canonical;
}

function zoneOf(name: string): Zone {
  let z = zones.get(name);
  if (z) return z;
  const fmt = name === "UTC" ? undefined : makeFormat(name === "Local" ? undefined : name);
  z = { name, fmt, buckets: new Map() };
  zones.set(name, z);
  return z;
}

/** Offset (ms east of UTC) read from Intl at the whole second containing t. */
function exactOffset(fmt: Intl.DateTimeFormat, t: number): number {
  const sec = Math.floor(t / 1000) * 1000;
  let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  for (const p of fmt.formatToParts(sec)) {
    switch (p.type) {
      case "year":
        y = Number(p.value);
        break;
      case "month":
        mo = Number(p.value);
        break;
      case "day":
        d = Number(p.value);
        break;
      case "hour":
        h = Number(p.value);
        break;
      case "minute":
        mi = Number(p.value);
        break;
      case "second":
        s = Number(p.value);
        break;
      default:
        break;
    }
  }
  // Date.UTC maps years 0-99 to 1900-1999; set the year explicitly.
  const wall = new Date(Date.UTC(2000, mo - 1, d, h, mi, s)).setUTCFullYear(y);
  return wall - sec;
}

/** UTC offset of zone `name` at instant t, in ms east of UTC (New York in winter: -5 h). */
export function offsetAt(name: string, t: number): number {
  const z = zoneOf(name);
  if (z.fmt === undefined) return 0;
  const bucket = Math.floor(t / hourMs);
  let o = z.buckets.get(bucket);
  if (o === undefined) {
    // A bucket whose two ends agree holds no change (tzdata never changes twice within an
    // hour), so every instant in it has that offset. Otherwise mark it and ask Intl each time.
    const a = exactOffset(z.fmt, bucket * hourMs);
    const b = exactOffset(z.fmt, bucket * hourMs + hourMs - 1000);
    o = a === b ? a : NaN;
    if (z.buckets.size >= limits.scheduleZoneBucketsMax) z.buckets.clear();
    z.buckets.set(bucket, o);
  }
  return Number.isNaN(o) ? exactOffset(z.fmt, t) : o;
}

/** First whole second in (lo, hi] whose offset differs from the offset at lo. */
function changeAfter(name: string, lo: number, hi: number): number {
  const before = offsetAt(name, lo);
  assert(offsetAt(name, hi) !== before, `no offset change in (${lo}, ${hi}] for ${name}`);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetAt(name, mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The wall clock (naive ms, as if the zone were UTC) that zone `name` shows at instant t. */
export function wallAt(name: string, t: number): number {
  return t + offsetAt(name, t);
}

/**
 * What a wall time maps to. "one": the single instant; "twice": an ambiguous wall time (the
 * hour repeated when clocks go back) with its earlier instant and the wall time at which the
 * repetition ends; "gap": the wall time does not exist (clocks jumped forward) and `resumeWall`
 * is the first wall time after the gap.
 */
export type WallResolution =
  | { kind: "one"; t: number }
  | { kind: "twice"; t: number; repeatEndWall: number }
  | { kind: "gap"; resumeWall: number };

export function resolveWall(name: string, wall: number): WallResolution {
  const before = offsetAt(name, wall - dayMs);
  const after = offsetAt(name, wall + dayMs);
  if (before === after) {
    const t = wall - before;
    if (offsetAt(name, t) === before) return { kind: "one", t };
    // Two changes within two days (never in current tzdata): fall back to the local offset.
    const o = offsetAt(name, t);
    return { kind: "one", t: wall - o };
  }
  const t1 = wall - before; // valid if the wall time is still before the change
  const t2 = wall - after; // valid if the wall time is already after the change
  const ok1 = offsetAt(name, t1) === before;
  const ok2 = offsetAt(name, t2) === after;
  if (ok1 && ok2) {
    const lo = Math.min(t1, t2);
    const hi = Math.max(t1, t2);
    const change = changeAfter(name, lo, hi);
    return { kind: "twice", t: lo, repeatEndWall: change + before };
  }
  if (ok1) return { kind: "one", t: t1 };
  if (ok2) return { kind: "one", t: t2 };
  // Gap: the change lies between the two candidates; the first wall time after it is
  // change + after.
  const lo = Math.min(t1, t2);
  const hi = Math.max(t1, t2);
  const change = changeAfter(name, lo, hi);
  return { kind: "gap", resumeWall: change + after };
}
