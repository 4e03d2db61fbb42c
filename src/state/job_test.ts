// Proves job parsing and validation follow Dkron's rules and messages, plus Tock's stricter ones.
import { describe, expect, test } from "bun:test";
import { type Job, parseJobBody, toApiJob, validateJob } from "./job.ts";

const known = (
  name: string,
) => (["shell", "http"].includes(name) ? undefined : `unknown executor "${name}"`);
const base = {
  name: "job1",
  schedule: "@every 10s",
  executor: "shell",
  executor_config: { command: "date" },
};
const check = (body: Record<string, unknown>): Job => {
  const j = parseJobBody(body);
  validateJob(j, known);
  return j;
};

describe("parseJobBody", () => {
  test("the Dkron example parses with defaults", () => {
    const j = check(base);
    expect(j).toMatchObject({
      concurrency: "allow",
      retries: 0,
      disabled: false,
      tags: null,
      starts_at: null,
    });
  });
  test("wrong types name the field", () => {
    expect(() => parseJobBody({ ...base, retries: -1 })).toThrow(
      'field "retries" must be a non-negative integer',
    );
    expect(() => parseJobBody({ ...base, retries: "3" })).toThrow('field "retries"');
    expect(() => parseJobBody({ ...base, disabled: "yes" })).toThrow(
      'field "disabled" must be a boolean',
    );
    expect(() => parseJobBody({ ...base, executor_config: { timeout: 30 } })).toThrow(
      'field "executor_config.timeout" must be a string, got number',
    );
    expect(() => parseJobBody({ ...base, tags: ["a"] })).toThrow('field "tags" must be an object');
    expect(() => parseJobBody([base])).toThrow("must be a JSON object");
    expect(() => parseJobBody({ ...base, starts_at: "soon" })).toThrow('starts_at "soon"');
  });
  test("nullable times accept datetime-local as UTC and render RFC3339", () => {
    const j = parseJobBody({ ...base, starts_at: "2030-05-01T10:30", expires_at: null });
    expect(toApiJob(j).starts_at).toBe("2030-05-01T10:30:00Z");
    expect(toApiJob(j).expires_at).toBeNull();
    expect(toApiJob(j).next).toBe("0001-01-01T00:00:00Z");
    expect(Object.keys(toApiJob(j)).length).toBe(26 + 4); // Dkron's 26 + 4 Tock fields
  });
});

describe("validateJob", () => {
  test("name rules: empty, illegal characters, Unicode lowercase allowed", () => {
    expect(() => check({ ...base, name: "" })).toThrow(
      "Job validation failed: name cannot be empty.",
    );
    expect(() => check({ ...base, name: "BAD JOB NAME!" })).toThrow(
      "name contains illegal character 'B'",
    );
    expect(() =>
      check({ ...base, name: "abcdefghijklmnopqrstuvwxyz0123456789-_ßñëäïüøüáéíóýćàèìòùâêîôûæšłç" })
    )
      .not.toThrow();
  });
  test("self parent, bad schedule, empty schedule without parent", () => {
    expect(() => check({ ...base, parent_job: "job1" })).toThrow(
      "the job can not have itself as parent",
    );
    expect(() => check({ ...base, schedule: "61 * * * * *" })).toThrow("can't parse job schedule");
    expect(() => check({ ...base, schedule: "" })).toThrow(
      "can't parse job schedule: empty spec string",
    );
    expect(() => check({ ...base, schedule: "", parent_job: "p" })).not.toThrow();
  });
  test("concurrency, timezone, shell timeout and executor are checked", () => {
    expect(() => check({ ...base, concurrency: "maybe" })).toThrow(
      "invalid concurrency policy value",
    );
    expect(() => check({ ...base, concurrency: "" })).not.toThrow();
    expect(() => check({ ...base, timezone: "Mars/Olympus" })).toThrow(
      "unknown time zone Mars/Olympus",
    );
    expect(() => check({ ...base, timezone: "Europe/Berlin" })).not.toThrow();
    expect(() => check({ ...base, executor_config: { command: "x", timeout: "30" } })).toThrow(
      "Error parsing job timeout value",
    );
    expect(() => check({ ...base, executor: "kafka" })).toThrow('unknown executor "kafka"');
    expect(() => check({ ...base, executor: "" })).toThrow("executor cannot be empty");
  });
  test("time zones are IANA names in exact case; offsets and wrong case name the field", () => {
    for (const tz of ["europe/berlin", "+02:00", "UTC+2", "Europe/Berlin "]) {
      expect(() => check({ ...base, timezone: tz })).toThrow(
        `field "timezone": unknown time zone ${tz}`,
      );
    }
    for (const tz of ["Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+2", "UTC"]) {
      expect(() => check({ ...base, timezone: tz })).not.toThrow();
    }
  });
  test("the executor name is accepted in any case and stored lower-case; unknown stays refused", () => {
    expect(check({ ...base, executor: "Shell" }).executor).toBe("shell");
    expect(check({ ...base, executor: "HTTP", executor_config: {} }).executor).toBe("http");
    expect(() => check({ ...base, executor: "Kafka" })).toThrow('unknown executor "kafka"');
  });
});
