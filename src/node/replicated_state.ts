/**
 * state.db as the Raft shell's state machine: committed entries become one applyLog batch
 * (one transaction); Raft's no-op and configuration entries only advance applied_index. A
 * snapshot is `VACUUM INTO` a file in the snapshot dir; installing one renames a copy over
 * state.db and reloads the caches.
 */
import { rmSync } from "node:fs";
import {
  decodeDescriptor,
  encodeDescriptor,
  type SnapshotDir,
  type StateMachine,
} from "../consensus/mod.ts";
import { errorMessage, isTockError, TockError } from "../lib/mod.ts";
import type { Entry, Snapshot } from "../raft/mod.ts";
import type { LogItem, SqliteStateStore } from "../store/mod.ts";
import { decodeEnvelope } from "./door.ts";

export class ReplicatedState implements StateMachine {
  readonly #store: SqliteStateStore;
  readonly #snapshots: SnapshotDir;
  /** The snapshot file Raft referenced before the newest (it may still be streaming). */
  #previous: string | undefined;
  #current: string | undefined;
  /**
   * Committed entries not applied because the disk is full. Committed entries must apply, in
   * order, so they wait here and are tried again before anything newer (and by retry()).
   */
  #blocked: Entry[] = [];
  /** Told which requests could not apply (yet) and why, so their proposers hear at once. */
  onBlocked: (rids: string[], error: TockError) => void = () => {};

  constructor(store: SqliteStateStore, snapshots: SnapshotDir, current?: Uint8Array) {
    this.#store = store;
    this.#snapshots = snapshots;
    if (current !== undefined) this.#current = decodeDescriptor(current).file;
  }

  /** Entries waiting for disk space (0 when applying normally). */
  get blocked(): number {
    return this.#blocked.length;
  }

  /** Tries the entries blocked by a full disk again (a timer calls it). */
  retry(): void {
    if (this.#blocked.length > 0) this.apply([]);
  }

  appliedIndex(): number {
    return this.#store.appliedIndex;
  }

  apply(entries: readonly Entry[]): void {
    const all = this.#blocked.length === 0 ? entries : [...this.#blocked, ...entries];
    const from = this.#store.appliedIndex + 1;
    const fresh = all.filter((e) => e.index >= from);
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
    try {
      this.#store.applyLog(from, items);
      this.#blocked = [];
    } catch (e) {
      if (!isTockError(e) || e.kind !== "storage_full") throw e;
      this.#blocked = fresh;
      const err = new TockError(
        "storage_full",
        "disk full: state.db cannot grow. The command is committed and applies once space is freed in the data dir; until then this server's state stays behind",
      );
      this.onBlocked(items.flatMap((it) => (it.rid === undefined ? [] : [it.rid])), err);
    }
  }

  snapshot(): Uint8Array {
    const index = this.#store.appliedIndex;
    const file = this.#snapshots.newName(0, index);
    let d;
    try {
      this.#store.snapshotTo(this.#snapshots.path(file));
      d = this.#snapshots.seal(file);
    } catch (e) {
      // A full disk stops VACUUM INTO midway: the partial copy would only take more space.
      rmSync(this.#snapshots.path(file), { force: true });
      console.error(
        `tock: snapshot at index ${index} failed (${
          errorMessage(e)
        }); the partial file was deleted, the Raft log is kept whole and the snapshot is retried later`,
      );
      throw e;
    }
    this.#rotate(file);
    return encodeDescriptor(d);
  }

  restore(s: Snapshot): void {
    const d = decodeDescriptor(s.data);
    // A damaged file must never replace state.db: refuse it, naming the file.
    this.#snapshots.verify(d);
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
