/**
 * The single-node stand-in for Raft behind propose(): commands apply in order, durably, with
 * their indexes. Proposals made in the same event-loop turn are applied as one batch in one
 * transaction (group commit: one fsync for a scheduler tick that fires many jobs), at most
 * limits.applyBatchMax per turn so that a long queue yields to the event loop between batches.
 * Same contract as the Raft-backed door: resolves once applied, rejects with apply()'s
 * TockError, `overloaded` when the queue is full (back-pressure: 429), or `unavailable` once
 * closed.
 */
import { limits, TockError } from "../lib/mod.ts";
import type { ApplyResult, Command, Execution, Job } from "../state/mod.ts";
import type { SqliteStateStore } from "../store/mod.ts";

export interface Applied {
  job?: Job;
  execution?: Execution;
}

/** The one door for state changes, whatever backs it. */
export interface Proposer {
  propose(cmd: Command): Promise<Applied>;
}

interface Waiting {
  cmd: Command;
  resolve: (a: Applied) => void;
  reject: (e: unknown) => void;
}

export class LocalLog implements Proposer {
  readonly #store: SqliteStateStore;
  #queue: Waiting[] = [];
  #flushScheduled = false;
  #closed = false;

  constructor(store: SqliteStateStore) {
    this.#store = store;
  }

  propose(cmd: Command): Promise<Applied> {
    if (this.#closed) {
      return Promise.reject(
        new TockError("unavailable", "node is shutting down; the command was not applied"),
      );
    }
    if (this.#queue.length >= limits.proposalQueueMax) {
      return Promise.reject(
        new TockError(
          "overloaded",
          `node overloaded: ${limits.proposalQueueMax} commands are already waiting to apply; retry later`,
        ),
      );
    }
    return new Promise<Applied>((resolve, reject) => {
      this.#queue.push({ cmd, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        queueMicrotask(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#queue.splice(0, limits.applyBatchMax);
    if (batch.length === 0) return;
    if (this.#queue.length > 0) {
      // The rest applies in a later turn (a macrotask), after waiting I/O such as requests.
      this.#flushScheduled = true;
      setTimeout(() => this.#flush(), 0);
    }
    let results: ApplyResult[];
    try {
      results = this.#store.applyBatch(this.#store.appliedIndex + 1, batch.map((w) => w.cmd));
    } catch (e) {
      for (const w of batch) w.reject(e);
      return;
    }
    batch.forEach((w, i) => {
      const r = results[i] as ApplyResult;
      if (r.ok) {
        const { ok: _ok, ...applied } = r;
        w.resolve(applied);
      } else w.reject(r.error);
    });
  }

  close(): void {
    this.#closed = true;
  }
}
