// Proves the Go duration syntax used by Dkron job fields parses and prints like Go's.
import { describe, expect, test } from "bun:test";
import { formatGoDuration, parseGoDuration } from "./duration.ts";

describe("parseGoDuration", () => {
  test("accepts Go forms", () => {
    expect(parseGoDuration("30s")).toBe(30_000);
    expect(parseGoDuration("1h30m10s")).toBe(5_410_000);
    expect(parseGoDuration("1.5s")).toBe(1_500);
    expect(parseGoDuration("300ms")).toBe(300);
    expect(parseGoDuration("-2m")).toBe(-120_000);
    expect(parseGoDuration("0")).toBe(0);
    expect(parseGoDuration("1us")).toBeCloseTo(0.001);
  });
  test("rejects a bare number, empty input and unknown units with the input named", () => {
    expect(() => parseGoDuration("30")).toThrow('missing unit in duration "30"');
    expect(() => parseGoDuration("")).toThrow("invalid duration");
    expect(() => parseGoDuration("5d")).toThrow('invalid duration "5d"');
    expect(() => parseGoDuration("1h x")).toThrow("invalid duration");
  });
  test("formats like Go", () => {
    expect(formatGoDuration(5_400_000)).toBe("1h30m0s");
    expect(formatGoDuration(1_500)).toBe("1.5s");
    expect(formatGoDuration(250)).toBe("250ms");
    expect(formatGoDuration(0)).toBe("0s");
  });
});
