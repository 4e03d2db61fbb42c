/**
 * state.db as the Raft shell's state machine: committed entries become one applyLog batch
 * (one transaction); Raft's no-op and configuration entries only advance applied_index. A
 * snapshot is `VACUUM INTO` a file in the snapshot dir; installing one renames a copy over
 * state.db and reloads the caches.
 */
import {
  decodeDescriptor,
  encodeDescriptor,
  type SnapshotDir,
  type StateMachine,
} from "../consensus/mod.ts";
import { errorMessage } from "../lib/mod.ts";
import type { Entry, Snapshot } from "../raft/mod.ts";
import type { LogItem, SqliteStateStore } from "../store/mod.ts";
import { decodeEnvelope } from "./door.ts";

export class ReplicatedState implements StateMachine {
  readonly #store: SqliteStateStore;
  readonly #snapshots: SnapshotDir;
  /** The snapshot file Raft referenced before the newest (it may still be streaming). */
  #previous: string | undefined;
  #current: string | undefined;

  constructor(store: SqliteStateStore, snapshots: SnapshotDir, current?: Uint8Array) {
    this.#store = store;
    this.#snapshots = snapshots;
    if (current !== undefined) this.#current = decodeDescriptor(current).file;
  }

  appliedIndex(): number {
    return this.#store.appliedIndex;
  }

  apply(entries: readonly Entry[]): void {
    const from = this.#store.appliedIndex + 1;
    const fresh = entries.filter((e) => e.index >= from);
    if (fresh.length === 0) return;
    const items: LogItem[] = fresh.map((e) => {
      if (e.type !== "normal") return { cmd: null };
      try {
        const env = decodeEnvelope(e.data);
        return { cmd: env.c, rid: env.r };
      } catch (err) {
        // Every replica decodes the same bytes the same way: skipping is deterministic.
        console.error(`tock: log entry ${e.index} is not a command (${errorMessage(err)})`);
        return { cmd: null };
      }
    });
    this.#store.applyLog(from, items);
  }

  snapshot(): Uint8Array {
    const file = this.#snapshots.newName(0, this.#store.appliedIndex);
    this.#store.snapshotTo(this.#snapshots.path(file));
    const d = this.#snapshots.seal(file);
    this.#rotate(file);
    return encodeDescriptor(d);
  }

  restore(s: Snapshot): void {
    const d = decodeDescriptor(s.data);
    this.#store.install(this.#snapshots.path(d.file));
    this.#rotate(d.file);
  }

  #rotate(file: string): void {
    this.#previous = this.#current;
    this.#current = file;
    const keep = new Set([file]);
    if (this.#previous !== undefined) keep.add(this.#previous);
    this.#snapshots.prune(keep);
  }
}
