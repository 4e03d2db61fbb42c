/**
 * Time formatting and parsing for API fields. Pure: callers pass instants in epoch milliseconds.
 * Output follows Go's RFC3339Nano as Dkron emits it: UTC, trailing fractional zeros trimmed.
 */

/** Dkron's zero time, used for `next` when there is none and `finished_at` while running. */
export const zeroTime = "0001-01-01T00:00:00Z";

export function rfc3339(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2025-01-01T10:00:20.500Z
  return iso.replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : "Z"));
}

const rfc3339Re =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const datetimeLocalRe = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

/** Parses an RFC3339 time (any offset) to epoch ms, or undefined when it is not one. */
export function parseRfc3339(s: string): number | undefined {
  const m = rfc3339Re.exec(s);
  if (!m) return undefined;
  const ms = Date.parse(s.toUpperCase());
  if (Number.isNaN(ms)) return undefined;
  // Reject calendar overflow that Date.parse would roll over (e.g. February 30).
  const [, y, mo, d, h, mi, sec] = m;
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return undefined;
  const probe = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (probe.getUTCDate() !== Number(d)) return undefined;
  return ms;
}

/**
 * A nullable job time as Dkron accepts it: null, RFC3339, or the HTML `datetime-local` form
 * "YYYY-MM-DDTHH:MM" read as UTC. Returns epoch ms, null, or throws with the problem named.
 */
export function parseNullableTime(field: string, value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string") throw new Error(`${field} must be a string time or null`);
  const local = datetimeLocalRe.exec(value);
  if (local) {
    const ms = parseRfc3339(`${value}:00Z`);
    if (ms !== undefined) return ms;
  }
  const ms = parseRfc3339(value);
  if (ms === undefined) {
    throw new Error(
      `${field} "${value}" is not an RFC3339 time (2006-01-02T15:04:05Z07:00) or YYYY-MM-DDTHH:MM`,
    );
  }
  return ms;
}
