/**
 * Go's time.ParseDuration syntax ("300ms", "1h30m10s", "1.5s", "-2m"), which Dkron's job fields
 * use. Returns milliseconds (fractional below 1 ms), or throws an Error naming the input.
 */
const unitMs: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

const part = /^(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;

export function parseGoDuration(input: string): number {
  let s = input;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw new Error(`invalid duration "${input}"`);
  let total = 0;
  while (s.length > 0) {
    const m = part.exec(s);
    if (!m) {
      const bare = /^\d+(\.\d*)?$/.test(s);
      throw new Error(
        bare ? `missing unit in duration "${input}"` : `invalid duration "${input}"`,
      );
    }
    total += Number(m[1]) * (unitMs[m[2] as string] as number);
    s = s.slice(m[0].length);
  }
  return sign * total;
}

/** Formats milliseconds the way Go prints a duration ("1h30m0s", "1.5s", "250ms"). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return "0s";
  const neg = ms < 0;
  let rest = Math.abs(ms);
  let out = "";
  if (rest < 1_000) {
    out = `${+rest.toFixed(6)}ms`;
  } else {
    const h = Math.floor(rest / 3_600_000);
    rest -= h * 3_600_000;
    const m = Math.floor(rest / 60_000);
    rest -= m * 60_000;
    const sec = +(rest / 1_000).toFixed(9);
    if (h > 0) out += `${h}h`;
    if (h > 0 || m > 0) out += `${m}m`;
    out += `${sec}s`;
  }
  return neg ? `-${out}` : out;
}
