/**
 * GET /debug/vars: Dkron serves Go's expvar there (cmdline, memstats); Tock serves the same
 * idea as one JSON object: the command line, process memory, uptime and Tock's own counters
 * (the unlabelled samples of /metrics, so both always agree).
 */
import process from "node:process";

export interface DebugVars {
  cmdline: string[];
  memstats: { rss: number; heap_total: number; heap_used: number; external: number };
  uptime_seconds: number;
  tock: Record<string, number>;
}

export function debugVars(metricsText: string): DebugVars {
  const m = process.memoryUsage();
  return {
    cmdline: [...process.argv],
    memstats: { rss: m.rss, heap_total: m.heapTotal, heap_used: m.heapUsed, external: m.external },
    uptime_seconds: process.uptime(),
    tock: unlabelledSamples(metricsText),
  };
}

/** `name value` lines of a Prometheus text exposition (comments and labelled series skipped). */
export function unlabelledSamples(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*) (\S+)$/.exec(line);
    if (m) out[m[1] as string] = Number(m[2]);
  }
  return out;
}
