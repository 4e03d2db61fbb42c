/**
 * Cron fields: parsing with Dkron's (robfig/cron v3) rules plus Tock's hash forms, compiling to
 * lookup tables, and stepping wall-clock time to the next matching second.
 *
 * Wall times here are "naive" epoch milliseconds: the clock reading of a zone written as if the
 * zone were UTC. _zone.ts turns them into instants.
 */
import { assert, limits } from "../lib/mod.ts";

/** Field names in 6-field order, as error messages name them. */
export const fieldNames = [
  "seconds",
  "minutes",
  "hours",
  "day of month",
  "month",
  "day of week",
] as const;
const fieldMin = [0, 0, 0, 1, 1, 0] as const;
const fieldMax = [59, 59, 23, 31, 12, 6] as const;
/** Range used by a bare `H` (Jenkins keeps day of month to 1-28 so every month has it). */
const hashMax = [59, 59, 23, 28, 12, 6] as const;

const monthNames = [
  "jan",
  "feb",
  "mar",
  "apr",
  "may",
  "jun",
  "jul",
  "aug",
  "sep",
  "oct",
  "nov",
  "dec",
];
const dowNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/**
 * A compiled 6-field spec. `tab` holds, per field at offset fieldOffset[f], the next allowed
 * value at or after each value (-1: none); value v is allowed when tab[off + v] === v. One
 * 202-byte array per spec keeps 100k distinct (H-hashed) specs small.
 */
export interface Compiled {
  readonly tab: Int8Array;
  readonly domStar: boolean;
  readonly dowStar: boolean;
}

/** Offsets of each field's table in Compiled.tab (each has max + 2 entries; the last is -1). */
const fieldOffset = [0, 61, 122, 147, 180, 194] as const;
const tabLength = 202;

/** Dkron's `~`: the sum of the name's code points, reduced per field. */
export function tildeValue(jobName: string, field: number): number {
  let h = 0;
  for (const ch of jobName) h += ch.codePointAt(0) as number;
  switch (field) {
    case 0:
    case 1:
      return h % 60;
    case 2:
      return h % 24;
    case 3:
      return (h % 28) + 1;
    case 4:
      return (h % 12) + 1;
    case 5:
      return h % 7;
    default:
      throw new Error(`no field ${field}`);
  }
}

/** A stable 32-bit hash of the job name for one field (FNV-1a, then murmur3's finaliser). */
export function fieldHash(jobName: string, field: number): number {
  let h = 0x811c9dc5;
  const text = `${jobName}\u0000${field}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function parseValue(text: string, field: number, fail: (m: string) => never): number {
  const lower = text.toLowerCase();
  if (field === 4) {
    const i = monthNames.indexOf(lower);
    if (i >= 0) return i + 1;
  }
  if (field === 5) {
    const i = dowNames.indexOf(lower);
    if (i >= 0) return i;
  }
  if (!/^\d+$/.test(text)) fail(`${fieldNames[field]} value "${text}" is not a number`);
  const v = Number(text);
  const min = fieldMin[field] as number;
  const max = fieldMax[field] as number;
  if (v < min || v > max) fail(`${fieldNames[field]} value ${v} out of range ${min}-${max}`);
  return v;
}

/**
 * Replaces the hash forms of one field with plain cron text: `~` (Dkron) by its value, and
 * Jenkins' `H`, `H/n`, `H(a-b)`, `H(a-b)/n` by a concrete value or `start-end/n`.
 */
export function expandHashes(
  text: string,
  field: number,
  jobName: string,
  fail: (m: string) => never,
): string {
  const name = fieldNames[field] as string;
  const out = text.includes("~") ? text.replaceAll("~", String(tildeValue(jobName, field))) : text;
  // No month or weekday name starts with H, so a part starting with H is always a hash form.
  if (!/(^|,)H/.test(out)) return out;
  return out.split(",").map((part) => {
    const m = /^H(?:\((\d+)-(\d+)\))?(?:\/(\d+))?$/.exec(part);
    if (!m) {
      if (/^H/.test(part)) {
        fail(`${name} "${part}" is not a valid H form (H, H/n, H(a-b), H(a-b)/n)`);
      }
      return part;
    }
    let lo = fieldMin[field] as number;
    let hi = hashMax[field] as number;
    if (m[1] !== undefined) {
      lo = Number(m[1]);
      hi = Number(m[2]);
      const max = fieldMax[field] as number;
      if (lo < (fieldMin[field] as number) || hi > max) {
        fail(`${name} range H(${lo}-${hi}) out of range ${fieldMin[field]}-${max}`);
      }
      if (lo > hi) fail(`${name} range H(${lo}-${hi}) is reversed`);
    }
    const span = hi - lo + 1;
    const h = fieldHash(jobName, field);
    if (m[3] === undefined) return String(lo + (h % span));
    const step = Number(m[3]);
    if (step < 1) fail(`${name} step in "${part}" must be a positive number`);
    const start = lo + (h % Math.min(step, span));
    return `${start}-${hi}/${step}`;
  }).join(",");
}

/** Parses one field (after hash expansion) into allowed values; returns whether it is "star". */
function parseField(
  text: string,
  field: number,
  allowed: Uint8Array,
  fail: (m: string) => never,
): boolean {
  const name = fieldNames[field] as string;
  const min = fieldMin[field] as number;
  const max = fieldMax[field] as number;
  let star = false;
  for (const part of text.split(",")) {
    if (part === "") fail(`${name} "${text}" has an empty list element`);
    const slash = part.split("/");
    if (slash.length > 2) fail(`${name} "${part}" has more than one /`);
    const range = slash[0] as string;
    const bounds = range.split("-");
    if (bounds.length > 2) fail(`${name} "${part}" has more than one -`);
    let lo: number;
    let hi: number;
    let partStar = false;
    if (range === "*" || range === "?") {
      lo = min;
      hi = max;
      partStar = true;
    } else {
      if (bounds.some((b) => b === "")) fail(`${name} "${part}" is not a value or range`);
      lo = parseValue(bounds[0] as string, field, fail);
      hi = bounds.length === 2 ? parseValue(bounds[1] as string, field, fail) : lo;
      if (lo > hi) fail(`${name} range ${bounds[0]}-${bounds[1]} is reversed`);
    }
    let step = 1;
    if (slash.length === 2) {
      const st = slash[1] as string;
      if (!/^\d+$/.test(st) || Number(st) < 1) {
        fail(`${name} step "${st}" in "${part}" must be a positive number`);
      }
      step = Number(st);
      if (bounds.length === 1 && !partStar) hi = max; // robfig: "a/n" means a-max/n
      if (step > 1) partStar = false;
    }
    for (let v = lo; v <= hi; v += step) allowed[v] = 1;
    star ||= partStar;
  }
  return star;
}

/** Compiles six plain fields (no hash forms left). Throws via `fail` on the first problem. */
export function compileFields(fields: readonly string[], fail: (m: string) => never): Compiled {
  assert(fields.length === 6, `compileFields wants 6 fields, got ${fields.length}`);
  const tab = new Int8Array(tabLength).fill(-1);
  let domStar = false;
  let dowStar = false;
  for (let f = 0; f < 6; f++) {
    const a = new Uint8Array((fieldMax[f] as number) + 2);
    const star = parseField(fields[f] as string, f, a, fail);
    if (f === 3) domStar = star;
    if (f === 5) dowStar = star;
    const off = fieldOffset[f] as number;
    for (let v = a.length - 2; v >= 0; v--) tab[off + v] = a[v] ? v : (tab[off + v + 1] as number);
  }
  const c: Compiled = { tab, domStar, dowStar };
  if (nextWall(c, Date.UTC(2000, 0, 1), 10) === undefined) {
    fail("never fires: no day of month in the chosen months matches");
  }
  return c;
}

// ---- calendar arithmetic on days since 1970-01-01 (proleptic Gregorian) ----

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Days since the epoch of a civil date (Howard Hinnant's algorithm). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(z0: number): [number, number, number] {
  const z = z0 + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

/**
 * The first wall time at or after `fromWall` (rounded up to a whole second) that matches, or
 * undefined when none exists within `yearsMax` years (robfig gives up after 5; Tock looks 10
 * ahead so that a 29 February spec survives the skipped leap year 2100).
 */
export function nextWall(c: Compiled, fromWall: number, yearsMax: number): number | undefined {
  const startSec = Math.ceil(fromWall / 1000);
  const dayNum = Math.floor(startSec / 86400);
  let rest = startSec - dayNum * 86400;
  let [y, mo, d] = civilFromDays(dayNum);
  let h = Math.floor(rest / 3600);
  rest -= h * 3600;
  let mi = Math.floor(rest / 60);
  let s = rest - mi * 60;
  const yLimit = y + yearsMax;
  const tab = c.tab;
  const and = c.domStar || c.dowStar;
  for (let guard = 0; guard < limits.scheduleStepsMax; guard++) {
    if (y > yLimit) return undefined;
    // Each overflowing field (d > dim, h = 24, mi = 60) finds no match and carries upward.
    const m2 = mo > 12 ? -1 : tab[180 + mo] as number;
    if (m2 < 0) {
      y++;
      mo = 1;
      d = 1;
      h = mi = s = 0;
      continue;
    }
    if (m2 !== mo) {
      mo = m2;
      d = 1;
      h = mi = s = 0;
    }
    const dim = daysInMonth(y, mo);
    let wd = (((daysFromCivil(y, mo, d) + 4) % 7) + 7) % 7;
    let found = -1;
    for (let dd = d; dd <= dim; dd++, wd = wd === 6 ? 0 : wd + 1) {
      const a = tab[147 + dd] === dd;
      const b = tab[194 + wd] === wd;
      if (and ? a && b : a || b) {
        found = dd;
        break;
      }
    }
    if (found < 0) {
      mo++;
      d = 1;
      h = mi = s = 0;
      continue;
    }
    if (found !== d) {
      d = found;
      h = mi = s = 0;
    }
    const h2 = tab[122 + h] as number;
    if (h2 < 0) {
      d++;
      h = mi = s = 0;
      continue;
    }
    if (h2 !== h) {
      h = h2;
      mi = s = 0;
    }
    const mi2 = tab[61 + mi] as number;
    if (mi2 < 0) {
      h++;
      mi = s = 0;
      continue;
    }
    if (mi2 !== mi) {
      mi = mi2;
      s = 0;
    }
    const s2 = tab[s] as number;
    if (s2 < 0) {
      mi++;
      s = 0;
      continue;
    }
    s = s2;
    return (daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000;
  }
  assert(false, `nextWall took more than ${limits.scheduleStepsMax} steps`);
  return undefined;
}
