// Proves the UI's pure display helpers: Go zero time reads as "none", relative and absolute
// times, Dkron's status words map to the labels its UI shows, and the API base follows the page.
import { describe, expect, test } from "bun:test";
import {
  absoluteTime,
  apiBase,
  apiPrefix,
  durationText,
  executionStatus,
  fieldOfMessage,
  formatBytes,
  formatPairs,
  jobStatus,
  parseApiTime,
  parsePairs,
  relativeTime,
  runDuration,
  zeroTime,
  zonedTime,
} from "./format.ts";

describe("parseApiTime", () => {
  test("reads Go's zero time, null and empty as no value", () => {
    expect(parseApiTime(zeroTime)).toBeNull();
    expect(parseApiTime(null)).toBeNull();
    expect(parseApiTime("")).toBeNull();
    expect(parseApiTime("not a time")).toBeNull();
  });
  test("parses RFC3339 with fractions and offsets", () => {
    expect(parseApiTime("2026-01-02T03:04:05.5Z")).toBe(Date.UTC(2026, 0, 2, 3, 4, 5, 500));
    expect(parseApiTime("2026-01-02T05:04:05+02:00")).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
  });
});

describe("relativeTime", () => {
  const now = Date.UTC(2026, 5, 1);
  test("says future times with 'in' and past times with 'ago'", () => {
    expect(relativeTime(now + 5_000, now)).toBe("in 5s");
    expect(relativeTime(now - 5_000, now)).toBe("5s ago");
  });
  test("uses the two largest units", () => {
    expect(relativeTime(now + 90_000, now)).toBe("in 1m 30s");
    expect(relativeTime(now + 120_000, now)).toBe("in 2m");
    expect(relativeTime(now - (2 * 3_600 + 5 * 60) * 1_000, now)).toBe("2h 5m ago");
    expect(relativeTime(now + (4 * 86_400 + 3 * 3_600) * 1_000, now)).toBe("in 4d 3h");
  });
  test("calls anything under a second 'now'", () => {
    expect(relativeTime(now + 999, now)).toBe("now");
    expect(relativeTime(now - 999, now)).toBe("now");
  });
});

test("absoluteTime formats in UTC or with a given offset", () => {
  const ms = Date.UTC(2026, 0, 2, 23, 4, 5);
  expect(absoluteTime(ms)).toBe("2026-01-02 23:04:05");
  expect(absoluteTime(ms, 60)).toBe("2026-01-03 00:04:05");
  expect(absoluteTime(ms, -330)).toBe("2026-01-02 17:34:05");
});

test("jobStatus shows Dkron's empty status as waiting to run", () => {
  expect(jobStatus("")).toEqual({ label: "waiting to run", tone: "idle" });
  expect(jobStatus("success").tone).toBe("ok");
  expect(jobStatus("failed").tone).toBe("bad");
  expect(jobStatus("partially_failed")).toEqual({ label: "partially failed", tone: "warn" });
});

describe("executionStatus", () => {
  test("prefers Tock's status field", () => {
    expect(executionStatus({ status: "missed", success: false, finished_at: zeroTime }).label)
      .toBe("missed");
    expect(executionStatus({ status: "lost", success: false, finished_at: zeroTime }).tone)
      .toBe("warn");
  });
  test("derives running/success/failed from Dkron's fields when status is absent", () => {
    expect(executionStatus({ success: false, finished_at: zeroTime }).label).toBe("running");
    expect(executionStatus({ success: true, finished_at: "2026-01-01T00:00:00Z" }).label)
      .toBe("success");
    expect(executionStatus({ success: false, finished_at: "2026-01-01T00:00:00Z" }).label)
      .toBe("failed");
  });
});

test("formatBytes picks B, KiB or MiB", () => {
  expect(formatBytes(532)).toBe("532 B");
  expect(formatBytes(1536)).toBe("1.5 KiB");
  expect(formatBytes(3 * 1024 * 1024 + 400 * 1024)).toBe("3.4 MiB");
});

test("runDuration is empty while running and scales its unit", () => {
  expect(runDuration("2026-01-01T00:00:00Z", zeroTime)).toBe("");
  expect(runDuration("2026-01-01T00:00:00Z", "2026-01-01T00:00:00.85Z")).toBe("850 ms");
  expect(runDuration("2026-01-01T00:00:00Z", "2026-01-01T00:00:12.3Z")).toBe("12.3 s");
  expect(runDuration("2026-01-01T00:00:00Z", "2026-01-01T00:04:02Z")).toBe("4m 2s");
});

test("apiBase finds /v1 beside the /ui/ the page is served from", () => {
  expect(apiBase("/ui/")).toBe("/v1");
  expect(apiBase("/ui/index.html")).toBe("/v1");
  expect(apiBase("/ui/jobs/x")).toBe("/v1");
  expect(apiBase("/ui")).toBe("/v1");
  expect(apiBase("/proxy/tock/ui/")).toBe("/proxy/tock/v1");
  expect(apiBase("/")).toBe("/v1");
});

describe("form and filter helpers", () => {
  test("parsePairs reads key=value lines or commas and names a bad entry", () => {
    expect(parsePairs("a=1\n b = two \n\nc=x=y")).toEqual({ map: { a: "1", b: "two", c: "x=y" } });
    expect(parsePairs("team=web,dc=x")).toEqual({ map: { team: "web", dc: "x" } });
    expect(parsePairs("a=1\noops")).toEqual({ error: `"oops" is not key=value` });
    expect(parsePairs("=1")).toEqual({ error: `"=1" is not key=value` });
    expect(parsePairs("")).toEqual({ map: {} });
  });
  test("formatPairs is the inverse, sorted by key", () => {
    expect(formatPairs({ b: "2", a: "1" })).toBe("a=1\nb=2");
    expect(formatPairs(null)).toBe("");
  });
  test("fieldOfMessage finds the field a server message is about", () => {
    expect(
      fieldOfMessage(
        `Unable to parse payload: field "retries" must be a non-negative integer, got "x".`,
      ),
    )
      .toBe("retries");
    expect(fieldOfMessage(`field "executor_config.command" is too long`)).toBe("executor_config");
    expect(fieldOfMessage("Job validation failed: can't parse job schedule: bad spec.")).toBe(
      "schedule",
    );
    expect(fieldOfMessage("Job validation failed: unknown time zone Mars/Base.")).toBe("timezone");
    expect(fieldOfMessage("Job validation failed: name contains illegal character 'B'.")).toBe(
      "name",
    );
    expect(fieldOfMessage("New job submissions are currently paused")).toBe(null);
  });
  test("durationText and zonedTime", () => {
    expect(durationText(850)).toBe("850 ms");
    expect(durationText(12_340)).toBe("12.3 s");
    expect(durationText(242_000)).toBe("4m 2s");
    expect(durationText(7_500_000)).toBe("2h 5m");
    const ms = Date.parse("2026-07-01T12:00:00Z");
    expect(zonedTime(ms, "")).toBe("2026-07-01 12:00:00");
    expect(zonedTime(ms, "Europe/Berlin")).toBe("2026-07-01 14:00:00");
    expect(zonedTime(ms, "Not/AZone")).toBe("2026-07-01 12:00:00");
  });
  test("apiPrefix is the path before /ui/", () => {
    expect(apiPrefix("/ui/")).toBe("");
    expect(apiPrefix("/tock/ui/")).toBe("/tock");
  });
});
