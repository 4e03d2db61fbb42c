/**
 * Target selection: which nodes run one execution of a job. Pure (no clock, no IO): members,
 * loads and a seeded PRNG are passed in, so the leader's choice replays from a seed.
 *
 * Syntax and filter are Dkron's (`dkron/tags.go`, `getTargetNodes`), so Dkron job definitions
 * keep their meaning: job tags `{"key": "value[:count]"}`; a node qualifies when it is alive, in
 * the leader's region and has every job tag key with exactly that value (AND, case-sensitive);
 * the count is the smallest one given; a count that is not an integer (`test:invalid`) makes
 * the count 0, so nothing runs; with more than one colon the value is the text before the first
 * one and there is no count. Tagged jobs without a count run on every qualifying node, as in
 * Dkron.
 *
 * What Tock changes (the Dkron issues it avoids):
 *  - A job WITHOUT tags runs on ONE node, not on every node (Dkron's most reported surprise:
 *    an untagged job ran N times per slot).
 *  - Among qualifying nodes the ones running the fewest executions are chosen (ties broken by
 *    the PRNG), instead of a uniform draw that piles runs on a busy node.
 *  - A node at its concurrency cap (`--max-parallel`, unbounded by default) is not chosen.
 *  - "Nothing matched" is a result that says why (bad count, no member matches, all at their
 *    cap), so a scheduled slot is recorded `missed` with that reason and a manual run answers
 *    404 — Dkron logs "no target nodes found" and records nothing.
 *  - The tie-break mixes one PRNG draw with each node's name, so the choice does not depend on
 *    the order gossip lists members in (Dkron's own test had to sort to stop its distribution
 *    skewing).
 */
import type { Prng } from "../lib/mod.ts";

/** A gossip member as target selection sees it (structurally a gossip `Member`). */
export interface TargetMember {
  name: string;
  /** Gossip state; `suspect` still counts as alive, as in Serf (memberlist suspicion is internal). */
  state: "alive" | "suspect" | "dead" | "left";
  /** Node tags; `region` (default "global") is the node's region. */
  tags: Readonly<Record<string, string>>;
}

/** How busy a node is: executions it runs now and its cap (Infinity when unbounded). */
export interface NodeLoad {
  running: number;
  capacity: number;
}

export interface TargetQuery {
  jobName: string;
  /** The job's tags (Dkron's `tags`); null or {} means Tock's default: one node. */
  tags: Readonly<Record<string, string>> | null;
  members: readonly TargetMember[];
  /** The leader's region: only members of this region run the job. */
  region: string;
  /** Load per node name; a node missing here runs nothing and has no cap. */
  load: ReadonlyMap<string, NodeLoad>;
  prng: Prng;
}

export type NoTargetReason =
  /** A tag's count is not an integer (Dkron turns it into 0). */
  | "invalid_count"
  /** The smallest count is 0 or negative. */
  | "zero_count"
  /** No alive member of the region has all the job's tags. */
  | "no_match"
  /** Members match, but every one of them is at its max-parallel cap. */
  | "at_capacity";

export type TargetResult =
  | { ok: true; nodes: string[]; atCapacity: string[] }
  | { ok: false; reason: NoTargetReason; message: string; atCapacity: string[] };

/** The region of a member that does not gossip one (Dkron's default `--region`). */
export const defaultRegion = "global";

/** Job tags with counts stripped, the smallest count (Infinity: none given) and bad counts. */
export interface CleanTags {
  tags: Record<string, string>;
  count: number;
  invalid: Array<{ key: string; value: string }>;
}

/** Dkron's `cleanTags`: `value[:count]` → value, and the smallest count of all tags. */
export function cleanTags(tags: Readonly<Record<string, string>> | null): CleanTags {
  const out: CleanTags = { tags: {}, count: Infinity, invalid: [] };
  for (const [key, raw] of Object.entries(tags ?? {})) {
    const parts = raw.split(":");
    out.tags[key] = parts[0] as string;
    if (parts.length !== 2) continue;
    const text = parts[1] as string;
    // Go's strconv.Atoi: optional sign, decimal digits, nothing else.
    const n = /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n)) {
      out.invalid.push({ key, value: raw });
      out.count = Math.min(out.count, 0);
      continue;
    }
    out.count = Math.min(out.count, n);
  }
  return out;
}

const byName = (a: { name: string }, b: { name: string }) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

function qualifies(
  m: TargetMember,
  wanted: ReadonlyArray<[string, string]>,
  region: string,
): boolean {
  return (m.state === "alive" || m.state === "suspect") &&
    (m.tags["region"] ?? defaultRegion) === region &&
    wanted.every(([k, v]) => Object.hasOwn(m.tags, k) && m.tags[k] === v);
}

/** Dkron's qualifying filter: alive, in `region`, every tag equal. Sorted by name. */
export function qualifyingMembers(
  members: readonly TargetMember[],
  tags: Readonly<Record<string, string>>,
  region: string,
): TargetMember[] {
  const wanted = Object.entries(tags);
  return members.filter((m) => qualifies(m, wanted, region)).sort(byName);
}

/** FNV-1a of a name, then xor with the call's draw and a murmur3 finaliser: a tie-break that
 * is uniform per draw and needs no sorting of members (so it ignores gossip's order). */
function tieOf(name: string, draw: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  h = (h ^ draw) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The nodes that run one execution of the job, or why there are none. */
export function selectTargets(q: TargetQuery): TargetResult {
  const clean = cleanTags(q.tags);
  const untagged = Object.keys(clean.tags).length === 0;
  // Tock's default: a job without tags runs on exactly one node.
  const count = untagged ? 1 : clean.count;
  const tagText = untagged ? "" : ` with tags ${JSON.stringify(q.tags)}`;
  if (clean.invalid.length > 0) {
    const bad = clean.invalid.map((t) => `${t.key}: "${t.value}"`).join(", ");
    return {
      ok: false,
      reason: "invalid_count",
      message: `tag count is not an integer (${bad}); write "value:2" or just "value"`,
      atCapacity: [],
    };
  }
  if (count <= 0) {
    return {
      ok: false,
      reason: "zero_count",
      message: `the smallest tag count is ${count}, so no node runs job "${q.jobName}"`,
      atCapacity: [],
    };
  }
  const wanted = Object.entries(clean.tags);
  const qualifying = q.members.filter((m) => qualifies(m, wanted, q.region));
  if (qualifying.length === 0) {
    return {
      ok: false,
      reason: "no_match",
      message: `no alive node in region "${q.region}"${tagText}`,
      atCapacity: [],
    };
  }
  const loadOf = (name: string): NodeLoad => q.load.get(name) ?? { running: 0, capacity: Infinity };
  // One draw per call; each node's tie-break mixes it with the node's name, so the choice
  // depends only on the seed and the data, not on the order members are listed in.
  const draw = q.prng.nextU32();
  const atCapacity: string[] = [];
  const free: Array<{ name: string; running: number; tie: number }> = [];
  for (const m of qualifying) {
    const l = loadOf(m.name);
    if (l.running >= l.capacity) atCapacity.push(m.name);
    else free.push({ name: m.name, running: l.running, tie: tieOf(m.name, draw) });
  }
  atCapacity.sort();
  if (free.length === 0) {
    return {
      ok: false,
      reason: "at_capacity",
      message: `every matching node is at its max-parallel limit (${atCapacity.join(", ")})`,
      atCapacity,
    };
  }
  const better = (a: (typeof free)[number], b: (typeof free)[number]) =>
    a.running - b.running || a.tie - b.tie || byName(a, b);
  let chosen: typeof free;
  if (count === 1) {
    // The common case (every untagged job): one linear scan, no sort.
    let best = free[0] as (typeof free)[number];
    for (const f of free) if (better(f, best) < 0) best = f;
    chosen = [best];
  } else {
    chosen = free.sort(better).slice(0, Math.min(count, free.length));
  }
  const nodes = chosen.map((f) => f.name).sort();
  return { ok: true, nodes, atCapacity };
}

/** Dkron's manual-run answer when nothing matches (served as 404). */
export function noTargetMessage(jobName: string, r: TargetResult & { ok: false }): string {
  return `no target nodes found to run job ${jobName}: ${r.message}`;
}
