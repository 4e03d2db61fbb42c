/**
 * Finishes that survive a leader change: the worker's durable outbox (pure model; the shell
 * persists each returned write) and the idempotent finish rule the apply code calls.
 *
 * Why (the Dkron issues it avoids): a Dkron worker reports a finished run with one RPC to the
 * server it knows; if that server is no longer leader, restarts, or the call times out, the
 * report is gone and the execution stays "running" forever (#1483) — or a retried report is
 * applied twice. Here:
 *  - The worker puts each finish in a durable outbox before anything else, and re-sends it to
 *    whichever server leads (every new session re-sends all; on one session, after
 *    limits.outboxResendMs without an answer) until a leader answers that it is applied.
 *  - Applying the same finish twice is a no-op, not a conflict (`finishOutcome`): the first
 *    final record wins, whether a finish or a `lost`, so a run is never both finished and lost.
 *  - The outbox is bounded (limits.outboxEntriesMax). The worker's fence keeps it below the
 *    bound (each entry is an active accepted id, and the fence refuses launches when its window
 *    is all active); if the bound is reached anyway the oldest entry is dropped and counted, and
 *    that run ends as `lost` once the worker stops reporting it (a loss the record shows, never
 *    a silent "running").
 *  - After a restart, runs the fence accepted that are neither in the outbox nor running died
 *    with the process: `orphanReports` turns them into `lost` finishes for the outbox.
 */
import { limits } from "../lib/mod.ts";
import type { Execution, ExecutionStatus } from "../state/mod.ts";
import { launchKey, splitLaunchKey } from "./ids.ts";

/** What a worker knows about a finished run: merged into the recorded execution on apply. */
export interface FinishReport {
  job: string;
  executionId: string;
  node: string;
  status: "success" | "failed" | "lost";
  exitCode: number | null;
  /** Epoch ms the executor started (null: it never did). */
  startedAtMs: number | null;
  finishedAtMs: number;
  outputSize: number;
  outputTail: string;
  reason: string;
}

export type FinishOutcome =
  /** The record was running: write `execution`, the final record. */
  | { kind: "apply"; execution: Execution }
  /** This finish is already recorded: nothing to do (a re-send after a leader change). */
  | { kind: "duplicate" }
  /** Another final record came first (e.g. `lost`): it stays, this one is dropped. */
  | { kind: "superseded"; recorded: ExecutionStatus }
  /** No record: trimmed, cleared, or its job deleted. Nothing to resurrect. */
  | { kind: "unknown" }
  /** Not a finish of this record (another node's, or not final): dropped and logged. */
  | { kind: "invalid"; message: string };

/**
 * The finish rule apply() follows: a running record becomes final once; every later finish of
 * the same execution is a no-op. Each outcome is final, so the worker drops the entry on any
 * of them (only a failed write keeps it queued).
 */
export function finishOutcome(existing: Execution | undefined, r: FinishReport): FinishOutcome {
  if (!["success", "failed", "lost"].includes(r.status)) {
    return { kind: "invalid", message: `finish of ${r.job}/${r.executionId} is not final` };
  }
  if (!existing) return { kind: "unknown" };
  if (existing.job_name !== r.job || existing.id !== r.executionId) {
    return {
      kind: "invalid",
      message: `finish of ${r.job}/${r.executionId} given ${existing.job_name}/${existing.id}`,
    };
  }
  if (existing.node_name !== r.node) {
    return {
      kind: "invalid",
      message:
        `finish of ${r.job}/${r.executionId} from node ${r.node}, but it was placed on ${existing.node_name}`,
    };
  }
  if (existing.status !== "running") {
    const same = existing.status === r.status && existing.finished_at === r.finishedAtMs &&
      existing.exit_code === r.exitCode;
    return same ? { kind: "duplicate" } : { kind: "superseded", recorded: existing.status };
  }
  return {
    kind: "apply",
    execution: {
      ...existing,
      status: r.status,
      success: r.status === "success",
      exit_code: r.exitCode,
      started_at: r.startedAtMs ?? existing.started_at,
      finished_at: r.finishedAtMs,
      output_size: r.outputSize,
      output_tail: r.outputTail,
      reason: r.reason,
      lease_until: null,
    },
  };
}

export interface OutboxEntry {
  key: string;
  report: FinishReport;
}

/** What must be persisted: an entry to put and keys to delete. */
export interface OutboxWrite {
  put: OutboxEntry[];
  delete: string[];
}

export interface OutboxCounters {
  enqueued: number;
  /** Dropped at the bound (each ends as `lost` on the leader). */
  dropped: number;
  sent: number;
  applied: number;
}

export class FinishOutbox {
  /** Persisted entries, oldest first. */
  readonly #entries = new Map<string, OutboxEntry>();
  /** In memory only: where and when each entry was last sent (a restart re-sends all). */
  readonly #sent = new Map<string, { session: number; atMs: number }>();
  readonly #max: number;
  readonly counters: OutboxCounters = { enqueued: 0, dropped: 0, sent: 0, applied: 0 };

  constructor(persisted: Iterable<OutboxEntry> = [], max: number = limits.outboxEntriesMax) {
    this.#max = max;
    for (const e of persisted) this.#entries.set(e.key, e);
  }

  /** A run finished: keep its report until a leader applied it. The same key again replaces
   * the report (a run finishes once; a later report of it is the better one). */
  enqueue(report: FinishReport): { write: OutboxWrite; dropped: OutboxEntry[] } {
    const key = launchKey(report.job, report.executionId);
    const dropped: OutboxEntry[] = [];
    if (!this.#entries.has(key)) {
      while (this.#entries.size >= this.#max) {
        const oldest = this.#entries.values().next().value as OutboxEntry;
        this.#entries.delete(oldest.key);
        this.#sent.delete(oldest.key);
        dropped.push(oldest);
      }
    }
    const entry = { key, report };
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    this.#sent.delete(key);
    this.counters.enqueued++;
    this.counters.dropped += dropped.length;
    return { write: { put: [entry], delete: dropped.map((d) => d.key) }, dropped };
  }

  /**
   * Entries to send now on `session` (a counter the worker bumps for every session it opens,
   * so a new leader, or a reconnect, gets everything again), oldest first, at most `batchMax`.
   * They count as sent at `nowMs` (monotonic).
   */
  due(
    session: number,
    nowMs: number,
    resendMs: number = limits.outboxResendMs,
    batchMax: number = limits.outboxSendBatchMax,
  ): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    for (const e of this.#entries.values()) {
      if (out.length >= batchMax) break;
      const s = this.#sent.get(e.key);
      if (s && s.session === session && nowMs - s.atMs < resendMs) continue;
      this.#sent.set(e.key, { session, atMs: nowMs });
      out.push(e);
    }
    this.counters.sent += out.length;
    return out;
  }

  /** A leader answered with a final outcome for this entry: forget it. */
  applied(key: string): OutboxWrite | undefined {
    if (!this.#entries.delete(key)) return undefined;
    this.#sent.delete(key);
    this.counters.applied++;
    return { put: [], delete: [key] };
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  keys(): string[] {
    return [...this.#entries.keys()];
  }

  snapshot(): OutboxEntry[] {
    return [...this.#entries.values()].map((e) => structuredClone(e));
  }
}

/**
 * After a restart: accepted runs (`activeKeys` from the fence) that are neither in the outbox
 * nor running now died with the previous process; each becomes a `lost` finish to enqueue.
 */
export function orphanReports(
  activeKeys: readonly string[],
  outbox: { has(key: string): boolean },
  runningNow: ReadonlySet<string>,
  node: string,
  nowMs: number,
): FinishReport[] {
  const out: FinishReport[] = [];
  for (const key of activeKeys) {
    if (outbox.has(key) || runningNow.has(key)) continue;
    const parts = splitLaunchKey(key);
    if (!parts) continue;
    out.push({
      job: parts.job,
      executionId: parts.id,
      node,
      status: "lost",
      exitCode: null,
      startedAtMs: null,
      finishedAtMs: nowMs,
      outputSize: 0,
      outputTail: "",
      reason: "lost: the worker restarted while it ran",
    });
  }
  return out;
}
