/**
 * The worker's fence: decides whether a launch (or a stop) from a leader is obeyed. Pure: the
 * shell persists what a decision returns BEFORE it starts the executor (or answers), so a
 * restart cannot forget a launch it ran.
 *
 * Why (the Dkron issues it avoids): Dkron's workers run whatever any server sends, so a deposed
 * or paused leader (GC pause, SIGSTOP, partition) launches a slot the new leader launched too,
 * and a retried RPC runs a job twice. Here:
 *  - Every launch carries the leader's Raft term. The worker keeps the highest term it has seen
 *    (launches, even refused ones, stops and session replies raise it) and refuses anything
 *    older: `stale_term`, counted as tock_fenced_total.
 *  - Every launch carries its execution id, deterministic per (job, slot, attempt, node) (ids.ts).
 *    A second launch of an id the worker already accepted is refused: `duplicate`, counted.
 *  - The remembered ids are a bounded window (limits.fenceAcceptedIdsMax). An id stays while its
 *    run is active (running, or its finish not yet applied by a leader); only settled ids are
 *    forgotten, oldest settled first. With every id active the launch is refused
 *    (`window_full`), so an id that a leader could still re-dispatch is never forgotten; that
 *    refusal is also the worker's back-pressure on running + unsent finishes.
 *  - A forgotten id could still arrive as a launch delayed in flight. Every leader message
 *    carries its position (term, seq: a counter the leader bumps per message it sends), and a
 *    leader sends no launch of an id after acknowledging its finish. So forgetting an id raises
 *    a floor to the position of the acknowledgement that settled it, and a launch at or below
 *    the floor is refused (`too_old`): it may be a copy of a forgotten id. A fresh launch
 *    refused that way is sent again later (re-dispatch), above the floor.
 */
import { limits } from "../lib/mod.ts";
import { launchKey } from "./ids.ts";

/** Where a leader message stands: its leader's term, then the leader's message counter. */
export interface Position {
  term: number;
  seq: number;
}

/** A launch as the worker receives it over its session. */
export interface Launch extends Position {
  job: string;
  executionId: string;
}

/** What must be durable before the executor starts (or before a refusal is answered). */
export interface FenceWrite {
  highestTerm: number;
  floor: Position;
  /** Launch keys to remember, with the term that launched them. */
  add: Array<{ key: string; term: number }>;
  /** Settled launch keys to forget (the window's bound). */
  forget: string[];
}

export type LaunchDecision =
  /** Run it, after persisting `write`. */
  | { kind: "accept"; key: string; write: FenceWrite }
  /** From a leader older than one already seen: a deposed or paused leader. */
  | { kind: "stale_term"; key: string; term: number; highestTerm: number }
  /** At or below the floor: possibly a delayed copy of a forgotten id. */
  | { kind: "too_old"; key: string; floor: Position; termRaised: boolean }
  /** This id was accepted before; `active` says whether its run is still unsettled here.
   * `termRaised`: the launch's newer term must be persisted before answering. */
  | { kind: "duplicate"; key: string; active: boolean; termRaised: boolean }
  /** Every remembered id is still active: refuse rather than forget one. */
  | { kind: "window_full"; key: string; active: number; termRaised: boolean }
  /** Not a launch Tock sends (bad term or seq, or empty names). */
  | { kind: "invalid"; message: string };

interface Accepted {
  term: number;
  /** Position of the acknowledgement that settled it; null while active. */
  settledAt: Position | null;
}

/** The fence's persisted form. */
export interface FenceSnapshot {
  highestTerm: number;
  floor: Position;
  /** Oldest first. `settledAt` is null while the run is active. */
  accepted: Array<{ key: string; term: number; settledAt: Position | null }>;
}

/** Counters for /metrics. */
export interface FenceCounters {
  accepted: number;
  /** tock_fenced_total: launches and stops refused for a stale term. */
  fenced: number;
  /** Launches refused as duplicates of an accepted id. */
  duplicates: number;
  windowFull: number;
  /** Launches refused at or below the floor of forgotten ids. */
  tooOld: number;
}

const validCount = (t: unknown): t is number => Number.isSafeInteger(t) && (t as number) >= 0;
const atOrBelow = (a: Position, b: Position): boolean =>
  a.term < b.term || (a.term === b.term && a.seq <= b.seq);
const later = (a: Position, b: Position): Position => (atOrBelow(a, b) ? b : a);

export class WorkerFence {
  #highestTerm: number;
  #floor: Position;
  /** Accepted keys in acceptance order. */
  readonly #accepted = new Map<string, Accepted>();
  /** Settled keys, oldest settled first: the ones that may be forgotten. */
  readonly #settled = new Set<string>();
  readonly #max: number;
  readonly counters: FenceCounters = {
    accepted: 0,
    fenced: 0,
    duplicates: 0,
    windowFull: 0,
    tooOld: 0,
  };

  constructor(snapshot?: FenceSnapshot, max: number = limits.fenceAcceptedIdsMax) {
    this.#max = max;
    this.#highestTerm = snapshot?.highestTerm ?? 0;
    this.#floor = snapshot?.floor ?? { term: 0, seq: -1 };
    for (const a of snapshot?.accepted ?? []) {
      this.#accepted.set(a.key, { term: a.term, settledAt: a.settledAt });
      if (a.settledAt) this.#settled.add(a.key);
    }
  }

  get highestTerm(): number {
    return this.#highestTerm;
  }

  /** A leader's term was seen (session open, heartbeat reply). True when it raised the
   * highest term, which must then be persisted. */
  observeTerm(term: number): boolean {
    if (!validCount(term) || term <= this.#highestTerm) return false;
    this.#highestTerm = term;
    return true;
  }

  /** Decides a launch; on accept the state already includes it and `write` must be persisted
   * before the executor starts. */
  admit(launch: Launch): LaunchDecision {
    if (
      !validCount(launch.term) || !validCount(launch.seq) || typeof launch.job !== "string" ||
      typeof launch.executionId !== "string" || launch.job === "" || launch.executionId === ""
    ) {
      return {
        kind: "invalid",
        message: `invalid launch: term ${JSON.stringify(launch.term)}, seq ${
          JSON.stringify(launch.seq)
        }, job ${JSON.stringify(launch.job)}, execution ${JSON.stringify(launch.executionId)}`,
      };
    }
    const key = launchKey(launch.job, launch.executionId);
    if (launch.term < this.#highestTerm) {
      this.counters.fenced++;
      return { kind: "stale_term", key, term: launch.term, highestTerm: this.#highestTerm };
    }
    // A launch refused for another reason still proves a leader of its term exists: the term
    // is raised (and must be persisted) whatever the decision, or an older leader could slip
    // in after a refused newer launch.
    const termRaised = launch.term > this.#highestTerm;
    this.#highestTerm = launch.term;
    const seen = this.#accepted.get(key);
    if (seen) {
      this.counters.duplicates++;
      return { kind: "duplicate", key, active: seen.settledAt === null, termRaised };
    }
    if (atOrBelow(launch, this.#floor)) {
      this.counters.tooOld++;
      return { kind: "too_old", key, floor: { ...this.#floor }, termRaised };
    }
    const forget: string[] = [];
    let floor = this.#floor;
    if (this.#accepted.size >= this.#max) {
      const oldest = this.#settled.values().next();
      if (oldest.done) {
        this.counters.windowFull++;
        return { kind: "window_full", key, active: this.#accepted.size, termRaised };
      }
      forget.push(oldest.value);
      const settledAt = this.#accepted.get(oldest.value)?.settledAt;
      if (settledAt) floor = later(floor, settledAt);
    }
    if (atOrBelow(launch, floor)) {
      // Forgetting would raise the floor past this very launch: refuse it, forget nothing.
      this.counters.tooOld++;
      return { kind: "too_old", key, floor: { ...floor }, termRaised };
    }
    for (const k of forget) {
      this.#settled.delete(k);
      this.#accepted.delete(k);
    }
    this.#floor = floor;
    this.#accepted.set(key, { term: launch.term, settledAt: null });
    this.counters.accepted++;
    return {
      kind: "accept",
      key,
      write: {
        highestTerm: this.#highestTerm,
        floor: { ...this.#floor },
        add: [{ key, term: launch.term }],
        forget,
      },
    };
  }

  /** Is a stop (kill, "declared lost") from a leader of `term` to be obeyed? A deposed leader
   * can no more stop a run than start one; a newer term is remembered. */
  obeysStop(term: number): boolean {
    if (!validCount(term) || term < this.#highestTerm) {
      this.counters.fenced++;
      return false;
    }
    this.#highestTerm = term;
    return true;
  }

  /** A leader acknowledged, at `ack`, that the run's finish is applied: the id may now be
   * forgotten at the bound (raising the floor to `ack`). */
  settle(key: string, ack: Position): boolean {
    if (validCount(ack.term) && ack.term > this.#highestTerm) this.#highestTerm = ack.term;
    const a = this.#accepted.get(key);
    if (!a || a.settledAt) return false;
    a.settledAt = { term: ack.term, seq: ack.seq };
    this.#settled.add(key);
    return true;
  }

  has(key: string): boolean {
    return this.#accepted.has(key);
  }

  isActive(key: string): boolean {
    return this.#accepted.get(key)?.settledAt === null;
  }

  /** Accepted keys whose finish is not applied yet, oldest first. */
  activeKeys(): string[] {
    return [...this.#accepted].filter(([, a]) => a.settledAt === null).map(([k]) => k);
  }

  get size(): number {
    return this.#accepted.size;
  }

  snapshot(): FenceSnapshot {
    return {
      highestTerm: this.#highestTerm,
      floor: { ...this.#floor },
      accepted: [...this.#accepted].map(([key, a]) => ({
        key,
        term: a.term,
        settledAt: a.settledAt && { ...a.settledAt },
      })),
    };
  }
}
