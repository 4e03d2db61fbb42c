// Proves the schedule core: Dkron's spec syntax and errors, 5/6-field forms, descriptors, the
// DOM/DOW AND/OR rule, ~ and H hashing, epoch-aligned @every, @at/@manually, DST behaviour in two
// zones (skip the gap, fire once in the repeat), slotsBetween bounds/limit, and agreement with
// croner (an independent implementation) on random specs in UTC.
import { describe, expect, test } from "bun:test";
import { Cron } from "croner";
import { isTockError, Prng } from "../lib/mod.ts";
import {
  nextSlot,
  nextSlots,
  parseSchedule,
  type Schedule,
  slotsBetween,
  validateAtNotPast,
} from "./mod.ts";

const utc = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0) =>
  Date.UTC(y, mo - 1, d, h, mi, s);
const iso = (ts: number[]) => ts.map((t) => new Date(t).toISOString().replace(".000", ""));
const parse = (spec: string, timezone = "", jobName = "job") =>
  parseSchedule(spec, { jobName, timezone });

function parseError(spec: string, timezone = ""): string {
  try {
    parse(spec, timezone);
  } catch (e) {
    expect(isTockError(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error(`spec "${spec}" parsed without error`);
}

describe("parseSchedule", () => {
  test("reads 6-field specs with seconds and 5-field specs with seconds = 0", () => {
    const six = parse("15 30 9 * * *");
    expect(iso(nextSlots(six, utc(2026, 1, 1), 2))).toEqual([
      "2026-01-01T09:30:15Z",
      "2026-01-02T09:30:15Z",
    ]);
    const five = parse("30 9 * * *");
    expect(five.spec).toBe("0 30 9 * * *");
    expect(iso(nextSlots(five, utc(2026, 1, 1), 1))).toEqual(["2026-01-01T09:30:00Z"]);
  });

  test("accepts ?, names in any case, ranges, lists and a/n steps", () => {
    const s = parse("0 0 12 ? JAN-mar Mon,fri");
    expect(iso(nextSlots(s, utc(2026, 1, 1), 3))).toEqual([
      "2026-01-02T12:00:00Z", // Friday
      "2026-01-05T12:00:00Z", // Monday
      "2026-01-09T12:00:00Z",
    ]);
    // "5/20" means 5-59/20, as in robfig/cron.
    expect(iso(nextSlots(parse("5/20 * * * * *"), utc(2026, 1, 1), 4))).toEqual([
      "2026-01-01T00:00:05Z",
      "2026-01-01T00:00:25Z",
      "2026-01-01T00:00:45Z",
      "2026-01-01T00:01:05Z",
    ]);
  });

  test("day of month and day of week: AND when either is * or ?, OR when both restricted", () => {
    // Both restricted: the 13th OR any Friday.
    const or = parse("0 0 0 13 * fri");
    expect(iso(nextSlots(or, utc(2026, 2, 1), 4))).toEqual([
      "2026-02-06T00:00:00Z",
      "2026-02-13T00:00:00Z",
      "2026-02-20T00:00:00Z",
      "2026-02-27T00:00:00Z",
    ]);
    const or2 = parse("0 0 0 10 * fri");
    expect(iso(nextSlots(or2, utc(2026, 2, 1), 3))).toEqual([
      "2026-02-06T00:00:00Z",
      "2026-02-10T00:00:00Z",
      "2026-02-13T00:00:00Z",
    ]);
    // Day of week *: only the day of month matters (AND with "every day").
    expect(iso(nextSlots(parse("0 0 0 10 * *"), utc(2026, 2, 1), 2))).toEqual([
      "2026-02-10T00:00:00Z",
      "2026-03-10T00:00:00Z",
    ]);
    // Day of month ?: only the weekday matters.
    expect(iso(nextSlots(parse("0 0 0 ? * fri"), utc(2026, 2, 1), 2))).toEqual([
      "2026-02-06T00:00:00Z",
      "2026-02-13T00:00:00Z",
    ]);
    // "*/2" is a restriction (robfig drops the star bit when the step is > 1): OR applies.
    const stepped = parse("0 0 0 */10 * mon");
    expect(iso(nextSlots(stepped, utc(2026, 2, 1), 4))).toEqual([
      "2026-02-02T00:00:00Z", // Monday
      "2026-02-09T00:00:00Z", // Monday
      "2026-02-11T00:00:00Z", // day 11 of */10 (1, 11, 21, 31)
      "2026-02-16T00:00:00Z", // Monday
    ]);
  });

  test("every descriptor expands to Dkron's meaning", () => {
    const after = utc(2026, 5, 15, 10, 20, 30); // a Friday
    const cases: Array<[string, string]> = [
      ["@yearly", "2027-01-01T00:00:00Z"],
      ["@annually", "2027-01-01T00:00:00Z"],
      ["@monthly", "2026-06-01T00:00:00Z"],
      ["@weekly", "2026-05-17T00:00:00Z"],
      ["@daily", "2026-05-16T00:00:00Z"],
      ["@midnight", "2026-05-16T00:00:00Z"],
      ["@hourly", "2026-05-15T11:00:00Z"],
      ["@minutely", "2026-05-15T10:21:00Z"],
    ];
    for (const [spec, want] of cases) {
      expect([spec, ...iso([nextSlot(parse(spec), after) as number])]).toEqual([spec, want]);
    }
  });

  test("the job timezone applies to descriptors; a TZ= prefix wins over it", () => {
    const berlinDaily = parse("@daily", "Europe/Berlin");
    expect(berlinDaily.timezone).toBe("Europe/Berlin");
    expect(iso(nextSlots(berlinDaily, utc(2026, 1, 10, 12), 1))).toEqual(["2026-01-10T23:00:00Z"]);
    const prefixed = parse("CRON_TZ=America/New_York 0 0 9 * * *", "Europe/Berlin");
    expect(prefixed.timezone).toBe("America/New_York");
    expect(iso(nextSlots(prefixed, utc(2026, 1, 10), 1))).toEqual(["2026-01-10T14:00:00Z"]);
    const tzDaily = parse("TZ=Asia/Kolkata @daily");
    expect(iso(nextSlots(tzDaily, utc(2026, 1, 10), 1))).toEqual(["2026-01-10T18:30:00Z"]);
  });

  test('timezone "" means UTC and "Local" is kept as the host zone', () => {
    expect(parse("@daily", "").timezone).toBe("UTC");
    expect(parse("@daily", "Local").timezone).toBe("Local");
    expect(parse("@daily", "Etc/UTC").timezone).toBe("UTC");
    const local = parse("0 0 * * * *", "Local");
    expect(nextSlot(local, utc(2026, 1, 1, 0, 30))).toBeDefined();
  });

  test("bad specs are rejected with a message naming the problem", () => {
    expect(parseError("61 * * * * *")).toBe(
      'schedule "61 * * * * *": seconds value 61 out of range 0-59',
    );
    expect(parseError("* * *")).toBe('schedule "* * *": has 3 fields, expected 5 or 6');
    expect(parseError("garbage")).toContain("has 1 fields, expected 5 or 6");
    expect(parseError("a b c d e f")).toContain('seconds value "a" is not a number');
    expect(parseError("0 0 25 * * *")).toContain("hours value 25 out of range 0-23");
    expect(parseError("0 0 0 0 * *")).toContain("day of month value 0 out of range 1-31");
    expect(parseError("0 0 0 * 13 *")).toContain("month value 13 out of range 1-12");
    expect(parseError("0 0 0 * * 7")).toContain("day of week value 7 out of range 0-6");
    expect(parseError("0 0 0 * foo *")).toContain('month value "foo" is not a number');
    expect(parseError("0 30-10 * * * *")).toContain("minutes range 30-10 is reversed");
    expect(parseError("*/0 * * * * *")).toContain('seconds step "0" in "*/0" must be a positive');
    expect(parseError("0 0 0 L * *")).toContain('day of month value "L" is not a number');
    expect(parseError("0 0 0 * * 5#2")).toContain('day of week value "5#2" is not a number');
    expect(parseError("1,,2 * * * * *")).toContain("empty list element");
    expect(parseError("0 0 0 30 2 *")).toContain("never fires");
    expect(parseError("@every 0s")).toBe(
      'schedule "@every 0s": @every interval 0s is below the 1s minimum',
    );
    expect(parseError("@every 500ms")).toContain("below the 1s minimum");
    expect(parseError("@every -5s")).toContain("below the 1s minimum");
    expect(parseError("@every soon")).toContain('"soon" is not a duration');
    expect(parseError("@every")).toContain("@every needs a duration");
    expect(parseError("@at tomorrow")).toContain('"tomorrow" is not an RFC3339 time');
    expect(parseError("@at 2026-02-30T00:00:00Z")).toContain("is not an RFC3339 time");
    expect(parseError("@fortnightly")).toContain('unknown descriptor "@fortnightly"');
    expect(parseError("@daily now")).toContain("@daily takes no argument");
    expect(parseError("")).toContain("is empty");
    expect(parseError("TZ=Mars/Olympus 0 * * * * *")).toBe(
      'schedule "TZ=Mars/Olympus 0 * * * * *": unknown time zone "Mars/Olympus"',
    );
    expect(parseError("@daily", "Mars/Olympus")).toContain('unknown time zone "Mars/Olympus"');
    expect(parseError("H(50-70) * * * * *")).toContain("H(50-70) out of range 0-59");
    expect(parseError("Hx * * * * *")).toContain("not a valid H form");
  });

  test("@every is aligned to the Unix epoch, so its phase does not depend on when it is asked", () => {
    const s = parse("@every 1m30s");
    expect(s).toEqual({ kind: "every", spec: "@every 1m30s", timezone: "UTC", intervalMs: 90_000 });
    const a = nextSlots(s, utc(2026, 1, 1, 0, 0, 7), 3);
    const b = nextSlots(s, utc(2026, 1, 1, 0, 1, 29), 2);
    for (const t of [...a, ...b]) expect(t % 90_000).toBe(0);
    expect(b).toEqual(a.slice(0, 2));
    // Fractions are truncated to whole seconds, as Dkron does.
    expect(parse("@every 2.7s")).toMatchObject({ kind: "every", intervalMs: 2_000 });
    // A slot exactly at `after` is not "after": the next one is.
    expect(nextSlot(s, 90_000 * 1000)).toBe(90_000 * 1001);
  });

  test("@at fires once; past @at has no slot and fails the create-time check", () => {
    const s = parse("@at 2027-01-01T00:00:00+02:00");
    expect(s.kind).toBe("at");
    const at = utc(2026, 12, 31, 22);
    expect(nextSlots(s, utc(2026, 1, 1), 5)).toEqual([at]);
    expect(nextSlot(s, at)).toBeUndefined();
    expect(() => validateAtNotPast(s, at - 1)).not.toThrow();
    expect(() => validateAtNotPast(s, at)).toThrow(/is not after now/);
    expect(() => validateAtNotPast(parse("@daily"), utc(2030, 1, 1))).not.toThrow();
  });

  test("@manually never fires", () => {
    const s = parse("@manually");
    expect(s).toEqual({ kind: "manual", spec: "@manually", timezone: "UTC" });
    expect(nextSlots(s, 0, 3)).toEqual([]);
    expect(slotsBetween(s, 0, utc(2100, 1, 1), 10)).toEqual([]);
  });

  test("29 February fires across the skipped leap year 2100", () => {
    const s = parse("0 0 0 29 2 *");
    expect(iso(nextSlots(s, utc(2096, 3, 1), 1))).toEqual(["2104-02-29T00:00:00Z"]);
  });
});

describe("name hashing", () => {
  test("~ uses the sum of the name's code points, per Dkron's field rules", () => {
    // "ab" = 97 + 98 = 195: sec/min 195 % 60 = 15, hour 195 % 24 = 3, dom 195 % 28 + 1 = 0 + 1,
    // month 195 % 12 + 1 = 4, dow 195 % 7 = 6.
    expect(parse("~ ~ ~ ~ ~ ~", "", "ab").spec).toBe("15 15 3 28 4 6");
    expect(parse("0 ~/15 * * * *", "", "ab").spec).toBe("0 15/15 * * * *");
    // 5-field specs are read as 6 fields with seconds = 0 before ~ is replaced.
    expect(parse("~ * * * *", "", "ab").spec).toBe("0 15 * * * *");
  });

  test("H is stable for a name, differs between fields, and spreads names out", () => {
    const a = parse("H H H H H H", "", "backup-db").spec;
    expect(parse("H H H H H H", "", "backup-db").spec).toBe(a);
    const minutes = new Set<number>();
    const seconds = new Set<number>();
    let sameInBothFields = 0;
    for (let i = 0; i < 600; i++) {
      const [sec, min] = parse("H H * * * *", "", `job-${i}`).spec.split(" ").map(Number);
      seconds.add(sec as number);
      minutes.add(min as number);
      if (sec === min) sameInBothFields++;
    }
    // 600 names over 60 values: a decent hash hits nearly all of them; equal seconds and
    // minutes should be about 1 in 60 (10 expected), not systematic.
    expect(minutes.size).toBeGreaterThanOrEqual(55);
    expect(seconds.size).toBeGreaterThanOrEqual(55);
    expect(sameInBothFields).toBeLessThan(30);
  });

  test("H/n, H(a-b) and H(a-b)/n stay within their range and step", () => {
    for (let i = 0; i < 200; i++) {
      const s = parse("H(0-29)/10 H/15 H(9-17) H * *", "", `n${i}`);
      const [sec, min, hour, dom] = s.spec.split(" ") as [string, string, string, string];
      const secStart = Number(sec.split("-")[0]);
      expect(secStart).toBeLessThan(10);
      expect(sec).toBe(`${secStart}-29/10`);
      const minStart = Number(min.split("-")[0]);
      expect(minStart).toBeLessThan(15);
      expect(min).toBe(`${minStart}-59/15`);
      expect(Number(hour)).toBeGreaterThanOrEqual(9);
      expect(Number(hour)).toBeLessThanOrEqual(17);
      expect(Number(dom)).toBeGreaterThanOrEqual(1);
      expect(Number(dom)).toBeLessThanOrEqual(28);
    }
  });
});

describe("DST", () => {
  test("America/New_York spring forward: 02:30 does not exist and is skipped", () => {
    const s = parse("0 30 2 * * *", "America/New_York");
    // 2026-03-08 02:00 EST jumps to 03:00 EDT.
    expect(iso(nextSlots(s, utc(2026, 3, 7, 12), 2))).toEqual([
      "2026-03-09T06:30:00Z", // 02:30 EDT on the 9th; the 8th has no 02:30
      "2026-03-10T06:30:00Z",
    ]);
    const half = parse("0 */30 * * * *", "America/New_York");
    expect(iso(nextSlots(half, utc(2026, 3, 8, 6), 3))).toEqual([
      "2026-03-08T06:30:00Z", // 01:30 EST
      "2026-03-08T07:00:00Z", // 03:00 EDT: 02:00 and 02:30 never happened
      "2026-03-08T07:30:00Z",
    ]);
  });

  test("America/New_York fall back: 01:30 happens twice and fires once", () => {
    const s = parse("0 30 1 * * *", "America/New_York");
    expect(iso(nextSlots(s, utc(2026, 11, 1), 2))).toEqual([
      "2026-11-01T05:30:00Z", // 01:30 EDT, the first occurrence
      "2026-11-02T06:30:00Z", // the next day, EST
    ]);
    // Asked from inside the repeated hour, the repeat is skipped (it already fired).
    const every20 = parse("0 */20 1 * * *", "America/New_York");
    expect(iso(nextSlots(every20, utc(2026, 11, 1, 4), 4))).toEqual([
      "2026-11-01T05:00:00Z",
      "2026-11-01T05:20:00Z",
      "2026-11-01T05:40:00Z",
      "2026-11-02T06:00:00Z",
    ]);
    expect(iso(nextSlots(every20, utc(2026, 11, 1, 6, 10), 1))).toEqual([
      "2026-11-02T06:00:00Z",
    ]);
  });

  test("Europe/Berlin spring forward and fall back", () => {
    // 2026-03-29 02:00 CET jumps to 03:00 CEST; 2026-10-25 03:00 CEST goes back to 02:00 CET.
    const s = parse("0 30 2 * * *", "Europe/Berlin");
    expect(iso(nextSlots(s, utc(2026, 3, 28, 12), 2))).toEqual([
      "2026-03-30T00:30:00Z",
      "2026-03-31T00:30:00Z",
    ]);
    expect(iso(nextSlots(s, utc(2026, 10, 24, 12), 2))).toEqual([
      "2026-10-25T00:30:00Z", // 02:30 CEST, first occurrence only
      "2026-10-26T01:30:00Z",
    ]);
    const hourly = parse("@hourly", "Europe/Berlin");
    expect(iso(slotsBetween(hourly, utc(2026, 10, 24, 23), utc(2026, 10, 25, 3), 10))).toEqual([
      "2026-10-24T23:00:00Z", // 01:00 CEST
      "2026-10-25T00:00:00Z", // 02:00 CEST; 02:00 CET (01:00Z) is the repeat and does not fire
      "2026-10-25T02:00:00Z", // 03:00 CET
    ]);
  });
});

describe("slotsBetween", () => {
  test("includes from, excludes to, and stops at the limit", () => {
    const s = parse("*/10 * * * * *");
    const from = utc(2026, 1, 1, 0, 0, 0);
    const to = utc(2026, 1, 1, 0, 1, 0);
    expect(slotsBetween(s, from, to, 100).length).toBe(6);
    expect(slotsBetween(s, from, to, 100)[0]).toBe(from);
    expect(slotsBetween(s, from, to, 100).at(-1)).toBe(to - 10_000);
    expect(slotsBetween(s, from, to, 2)).toEqual([from, from + 10_000]);
    expect(slotsBetween(s, from, to, 0)).toEqual([]);
    expect(slotsBetween(s, to, from, 10)).toEqual([]);
    expect(slotsBetween(s, from + 1, from + 10_000, 10)).toEqual([]);
    const every = parse("@every 10s");
    expect(slotsBetween(every, from, to, 100)).toEqual(slotsBetween(s, from, to, 100));
    const at = parse("@at 2026-01-01T00:00:30Z");
    expect(slotsBetween(at, from, to, 10)).toEqual([from + 30_000]);
    expect(slotsBetween(at, from, from + 30_000, 10)).toEqual([]);
  });

  test("the schedule survives a JSON round trip", () => {
    const s = parse("H H/2 * * * *", "Europe/Berlin", "x");
    const copy = JSON.parse(JSON.stringify(s)) as Schedule;
    expect(nextSlots(copy, utc(2026, 1, 1), 5)).toEqual(nextSlots(s, utc(2026, 1, 1), 5));
  });
});

describe("agreement with croner", () => {
  test("random specs give the same next slots as croner in UTC", () => {
    const rng = new Prng(20261127);
    const pick = <T>(xs: readonly T[]): T => xs[rng.int(0, xs.length)] as T;
    const ranges: Array<[number, number]> = [[0, 59], [0, 59], [0, 23], [1, 31], [1, 12], [0, 6]];
    const fieldSpec = (f: number): string => {
      const [lo, hi] = ranges[f] as [number, number];
      const v = () => lo + rng.int(0, hi - lo + 1);
      const parts: string[] = [];
      const n = 1 + rng.int(0, 2);
      for (let i = 0; i < n; i++) {
        const kind = pick(["*", "v", "range", "step", "rangestep"]);
        if (kind === "*") return "*";
        if (kind === "v") parts.push(String(v()));
        if (kind === "step") { // Step >= 2: robfig keeps "*/1" a star for the DOM/DOW rule, croner does not.
          parts.push(`*/${2 + rng.int(0, Math.min(20, hi - lo))}`);
        }
        if (kind === "range" || kind === "rangestep") {
          const a = v();
          const b = a + rng.int(0, hi - a + 1);
          parts.push(kind === "range" ? `${a}-${b}` : `${a}-${b}/${1 + rng.int(0, 5)}`);
        }
      }
      return parts.join(",");
    };
    let compared = 0;
    for (let i = 0; i < 300; i++) {
      const spec = [0, 1, 2, 3, 4, 5].map(fieldSpec).join(" ");
      let s: Schedule;
      try {
        s = parse(spec);
      } catch (e) {
        expect((e as Error).message).toContain("never fires");
        continue;
      }
      const after = utc(2020, 1, 1) + rng.int(0, 10 * 365) * 86_400_000 + rng.int(0, 86_400) * 1000;
      const cron = new Cron(spec, { timezone: "UTC", paused: true });
      const want = cron.nextRuns(5, new Date(after)).map((d) => d.getTime());
      expect([spec, ...nextSlots(s, after, 5)]).toEqual([spec, ...want]);
      compared++;
    }
    expect(compared).toBeGreaterThan(200);
  });
});

describe("DST against brute force", () => {
  test("slots equal every minute whose wall time croner matches, first occurrence only", () => {
    // Windows of two days around each change; Lord Howe moves its clocks by 30 minutes.
    const windows: Array<[string, number]> = [
      ["America/New_York", utc(2026, 3, 7)],
      ["America/New_York", utc(2026, 10, 31)],
      ["Europe/Berlin", utc(2026, 3, 28)],
      ["Europe/Berlin", utc(2026, 10, 24)],
      ["Australia/Lord_Howe", utc(2026, 4, 4)],
      ["Australia/Lord_Howe", utc(2026, 10, 3)],
    ];
    const specs = [
      "0 */15 * * * *",
      "0 30 2 * * *",
      "0 0 1-3 * * *",
      "0 */7 0-4 * * *",
      "0 45 1,2 * * sun",
    ];
    for (const [zone, from] of windows) {
      const to = from + 2 * 86_400_000;
      const fmt = new Intl.DateTimeFormat("en-US", {
        timeZone: zone,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
      });
      // Instants whose wall time has not been shown before (the first pass of a repeated hour).
      const seen = new Set<string>();
      const firsts: number[] = [];
      for (let t = from; t < to; t += 60_000) {
        const wall = fmt.format(t);
        if (!seen.has(wall)) firsts.push(t);
        seen.add(wall);
      }
      for (const spec of specs) {
        const cron = new Cron(spec, { timezone: zone, paused: true });
        const want = firsts.filter((t) => cron.match(new Date(t)));
        const got = slotsBetween(parse(spec, zone), from, to, 10_000);
        expect([zone, spec, ...iso(got)]).toEqual([zone, spec, ...iso(want)]);
      }
    }
  });
});
