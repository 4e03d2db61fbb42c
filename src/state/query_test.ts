// Proves queryJobs' filters (tags, owner, failed-within, and REST's), its paging, and that the
// fast sort orders exactly as the plain comparator it replaced (field, then name; DESC reversed).
import { describe, expect, test } from "bun:test";
import type { Job } from "./job.ts";
import { queryJobs, sortableJobFields, sortJobs } from "./query.ts";

function job(name: string, extra: Partial<Job> = {}): Job {
  return {
    name,
    displayname: "",
    schedule: "@daily",
    owner: "",
    status: "",
    disabled: false,
    tags: null,
    metadata: null,
    success_count: 0,
    error_count: 0,
    last_success: null,
    last_error: null,
    next: null,
    ...extra,
  } as Job;
}

const names = (r: { jobs: Job[] }) => r.jobs.map((j) => j.name);

describe("filters", () => {
  const all = [
    job("a", { tags: { role: "web", dc: "x" }, owner: "ops", last_error: 1_000 }),
    job("b", { tags: { role: "web" }, owner: "dev", last_error: 5_000 }),
    job("c", { owner: "ops" }),
  ];
  test("tags match every pair; a job without tags never matches a tag filter", () => {
    expect(names(queryJobs(all, { tags: { role: "web" } }))).toEqual(["a", "b"]);
    expect(names(queryJobs(all, { tags: { role: "web", dc: "x" } }))).toEqual(["a"]);
    expect(names(queryJobs(all, { tags: { role: "db" } }))).toEqual([]);
  });
  test("owner is exact; empty means any", () => {
    expect(names(queryJobs(all, { owner: "ops" }))).toEqual(["a", "c"]);
    expect(names(queryJobs(all, { owner: "" }))).toEqual(["a", "b", "c"]);
    expect(names(queryJobs(all, { owner: "op" }))).toEqual([]);
  });
  test("failedSinceMs keeps jobs whose last failure is at or after it", () => {
    expect(names(queryJobs(all, { failedSinceMs: 1_000 }))).toEqual(["a", "b"]);
    expect(names(queryJobs(all, { failedSinceMs: 1_001 }))).toEqual(["b"]);
    expect(names(queryJobs(all, { failedSinceMs: 5_001 }))).toEqual([]);
  });
  test("filters combine, and the total counts matches before paging", () => {
    const r = queryJobs(all, { owner: "ops", tags: { role: "web" }, start: "0", end: "0" });
    expect(r.total).toBe(1);
    expect(r.jobs).toEqual([]);
  });
});

describe("sortJobs", () => {
  // A deterministic shuffle with duplicate keys, nulls and mixed-case names.
  const all: Job[] = [];
  for (let i = 0; i < 500; i++) {
    const k = (i * 7_919) % 500;
    all.push(job(`${k % 3 === 0 ? "J" : "j"}ob-${String(k).padStart(3, "0")}`, {
      displayname: `d${k % 7}`,
      schedule: `@every ${k % 5}s`,
      success_count: k % 11,
      error_count: k % 4,
      last_success: k % 6 === 0 ? null : k * 10,
      last_error: k % 2 === 0 ? null : 1_000 - k,
      next: k % 9 === 0 ? null : k % 13,
    }));
  }
  /** The comparator queryJobs used before: field, then name; DESC negates both. */
  function reference(field: (typeof sortableJobFields)[number], desc: boolean): string[] {
    const key = (j: Job): string | number => j[field] ?? -Infinity;
    return [...all].sort((a, b) => {
      const ka = key(a), kb = key(b);
      const c = ka < kb ? -1 : ka > kb ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
      return desc ? -c : c;
    }).map((j) => j.name);
  }
  for (const field of sortableJobFields) {
    for (const desc of [false, true]) {
      test(`${field} ${desc ? "DESC" : "ASC"} orders as the plain comparator`, () => {
        expect(sortJobs(all, field, desc).map((j) => j.name)).toEqual(reference(field, desc));
      });
    }
  }
  test("does not change its input", () => {
    const before = all.map((j) => j.name);
    sortJobs(all, "next", true);
    expect(all.map((j) => j.name)).toEqual(before);
  });
});

test("a list already in name order is used as is, reversed for DESC, filters still applied", () => {
  const all = ["a", "b", "c", "d"].map((n) => job(n, { owner: n === "c" ? "x" : "" }));
  expect(names(queryJobs(all, { order: "DESC" }, true))).toEqual(["d", "c", "b", "a"]);
  expect(names(queryJobs(all, { owner: "x", order: "DESC" }, true))).toEqual(["c"]);
  expect(all.map((j) => j.name)).toEqual(["a", "b", "c", "d"]); // input untouched
  // Another field still sorts: by last_error, nulls first, then by name.
  const failed = [job("b", { last_error: 5 }), job("a", { last_error: 9 }), job("c")];
  expect(names(queryJobs(failed, { sort: "last_error" }, true))).toEqual(["c", "b", "a"]);
});
