/**
 * The single-node stand-in for Raft behind propose(): commands apply in order, each in one
 * durable transaction with its index. Same contract as the Raft-backed door: resolves once the
 * command is applied, rejects with the TockError apply() returned, or `unavailable` once closed.
 */
import { TockError } from "../lib/mod.ts";
import type { Command, Execution, Job } from "../state/mod.ts";
import type { SqliteStateStore } from "../store/mod.ts";

export interface Applied {
  job?: Job;
  execution?: Execution;
}

/** The one door for state changes, whatever backs it. */
export interface Proposer {
  propose(cmd: Command): Promise<Applied>;
}

export class LocalLog implements Proposer {
  readonly #store: SqliteStateStore;
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
    // SQLite applies synchronously, so commands apply strictly in call order.
    const result = this.#store.applyAt(this.#store.appliedIndex + 1, cmd);
    if (!result.ok) return Promise.reject(result.error);
    const { ok: _ok, ...applied } = result;
    return Promise.resolve(applied);
  }

  close(): void {
    this.#closed = true;
  }
}
