/**
 * The core's in-memory view of the log: a compacted prefix (offset, offsetTerm, offsetConfig)
 * followed by entries. Private to raft/: the durable copy lives in the shell's store.
 */
import { assert } from "../lib/mod.ts";
import {
  type ClusterConfig,
  decodeConfig,
  emptyConfig,
  type Entry,
  type Snapshot,
} from "./types.ts";

export class RaftLog {
  /** Index of the last entry folded into the compacted prefix; entries[0].index = offset + 1. */
  offset = 0;
  offsetTerm = 0;
  /** The configuration in force at `offset`. */
  offsetConfig: ClusterConfig = emptyConfig;
  entries: Entry[] = [];
  committed = 0;
  /** Highest index handed to the application (in a Ready) for applying. */
  applied = 0;
  /** Lowest index that is not yet known to be durable. */
  unstableFrom = 1;

  lastIndex(): number {
    return this.offset + this.entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  /** Term of index i, or undefined when i is compacted away or beyond the log. */
  term(i: number): number | undefined {
    if (i === this.offset) return this.offsetTerm;
    if (i < this.offset || i > this.lastIndex()) return undefined;
    return (this.entries[i - this.offset - 1] as Entry).term;
  }

  entry(i: number): Entry | undefined {
    if (i <= this.offset || i > this.lastIndex()) return undefined;
    return this.entries[i - this.offset - 1];
  }

  matchTerm(i: number, term: number): boolean {
    return this.term(i) === term;
  }

  /** Entries with index in [lo, hi), lo > offset. */
  slice(lo: number, hi: number): Entry[] {
    assert(lo > this.offset, `slice(${lo}) below offset ${this.offset}`);
    return this.entries.slice(lo - this.offset - 1, hi - this.offset - 1);
  }

  /** Is a log ending at (lastIndex, lastTerm) at least as up to date as ours (Raft §5.4.1)? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Appends entries after truncating any conflicting suffix (log matching). Returns the index
   * of the first entry actually written, or undefined when all were already present.
   */
  appendAfterConflicts(ents: readonly Entry[]): number | undefined {
    let firstNew: number | undefined;
    for (const e of ents) {
      if (e.index <= this.offset) continue;
      const t = this.term(e.index);
      if (t === e.term) continue;
      if (t !== undefined) {
        assert(
          e.index > this.committed,
          `truncating committed entry ${e.index} (committed ${this.committed})`,
        );
        this.truncateFrom(e.index);
      }
      assert(
        e.index === this.lastIndex() + 1,
        `gap appending ${e.index} after ${this.lastIndex()}`,
      );
      this.entries.push(e);
      firstNew ??= e.index;
    }
    return firstNew;
  }

  /** Appends one entry at lastIndex + 1 (leader path). */
  push(e: Entry): void {
    assert(e.index === this.lastIndex() + 1, `push ${e.index} after ${this.lastIndex()}`);
    this.entries.push(e);
  }

  truncateFrom(i: number): void {
    this.entries.length = i - this.offset - 1;
    if (this.unstableFrom > i) this.unstableFrom = i;
  }

  /** The configuration in force at index i (the latest config entry at or before i). */
  configAt(i: number): ClusterConfig {
    for (let j = Math.min(i, this.lastIndex()); j > this.offset; j--) {
      const e = this.entries[j - this.offset - 1] as Entry;
      if (e.type === "config") return decodeConfig(e.data);
    }
    return this.offsetConfig;
  }

  /** Index of the latest config entry after `from`, or 0. */
  lastConfigIndexAfter(from: number): number {
    for (let j = this.lastIndex(); j > Math.max(from, this.offset); j--) {
      if ((this.entries[j - this.offset - 1] as Entry).type === "config") return j;
    }
    return 0;
  }

  /** Drops entries up to and including `upTo`, keeping term and config for the new offset. */
  compact(upTo: number): void {
    if (upTo <= this.offset) return;
    assert(upTo <= this.applied, `compacting ${upTo} beyond applied ${this.applied}`);
    const term = this.term(upTo);
    assert(term !== undefined, `compact(${upTo}) outside the log`);
    this.offsetConfig = this.configAt(upTo);
    this.entries = this.entries.slice(upTo - this.offset);
    this.offset = upTo;
    this.offsetTerm = term;
  }

  /** Replaces the whole log with a snapshot's prefix (Raft Fig. 13 rule 7). */
  restore(s: Snapshot): void {
    this.entries = [];
    this.offset = s.meta.index;
    this.offsetTerm = s.meta.term;
    this.offsetConfig = s.meta.config;
    this.committed = s.meta.index;
    this.unstableFrom = s.meta.index + 1;
  }
}
