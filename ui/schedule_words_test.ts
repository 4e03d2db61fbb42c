// Proves schedules read in words: Dkron descriptors here, six-field cron (seconds first) through
// cronstrue, child jobs by their parent, and an unreadable expression shown as written.
import { expect, test } from "bun:test";
import { scheduleWords } from "./schedule_words.ts";

test("descriptors, @every and child jobs", () => {
  expect(scheduleWords("@daily", "")).toBe("Every day at midnight");
  expect(scheduleWords("@every 10s", "")).toBe("Every 10s");
  expect(scheduleWords("@manually", "")).toBe("Only when run by hand");
  expect(scheduleWords("", "backup")).toBe("After backup succeeds");
});

test("six-field cron reads the first field as seconds", () => {
  expect(scheduleWords("0 30 2 * * *", "")).toBe("At 02:30");
  expect(scheduleWords("*/15 * * * * *", "")).toBe("Every 15 seconds");
});

test("an expression cronstrue cannot read is shown as written", () => {
  expect(scheduleWords("H H * * * *", "")).toBe("H H * * * *");
});
