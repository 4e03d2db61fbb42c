// Proves API time fields format like Go's RFC3339Nano and parse every form Dkron accepts.
import { expect, test } from "bun:test";
import { parseNullableTime, parseRfc3339, rfc3339 } from "./time.ts";

test("rfc3339 trims fractional zeros like Go", () => {
  expect(rfc3339(Date.UTC(2025, 0, 1, 10, 0, 20, 500))).toBe("2025-01-01T10:00:20.5Z");
  expect(rfc3339(Date.UTC(2025, 0, 1, 10, 0, 30))).toBe("2025-01-01T10:00:30Z");
});

test("parseNullableTime accepts null, offsets and datetime-local as UTC", () => {
  expect(parseNullableTime("starts_at", null)).toBeNull();
  expect(parseNullableTime("starts_at", "2025-01-01T12:00:00+02:00")).toBe(
    Date.UTC(2025, 0, 1, 10),
  );
  expect(parseNullableTime("starts_at", "2025-01-01T12:30")).toBe(Date.UTC(2025, 0, 1, 12, 30));
});

test("parseNullableTime rejects other forms naming the field", () => {
  expect(() => parseNullableTime("expires_at", "tomorrow")).toThrow('expires_at "tomorrow"');
  expect(() => parseNullableTime("expires_at", 5)).toThrow("expires_at must be a string");
  expect(parseRfc3339("2025-02-30T00:00:00Z")).toBeUndefined();
  expect(parseRfc3339("2025-01-01 00:00:00Z")).toBeUndefined();
});
