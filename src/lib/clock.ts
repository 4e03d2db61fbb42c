/**
 * The clock port: shells read time and set timers only through it, so schedulers and runners
 * run on a FakeClock in tests (no sleeps) and on the system clock in production.
 */
export interface Clock {
  nowMs(): number;
  /** Calls fn once at (or after) atMs; returns a handle for clearTimer. */
  setTimer(atMs: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

export type TimerHandle = { readonly id: number };

/** A manual clock: time moves only by advance(), which fires due timers in time order. */
export class FakeClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(startMs: number) {
    this.#now = startMs;
  }

  nowMs(): number {
    return this.#now;
  }

  setTimer(atMs: number, fn: () => void): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { at: atMs, fn });
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers.delete(handle.id);
  }

  /** Pending timers (for assertions such as "one timer for the whole node"). */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing each due timer at its own instant, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const t of this.#timers) {
        if (
          t[1].at <= end &&
          (next === undefined || t[1].at < next[1].at || (t[1].at === next[1].at && t[0] < next[0]))
        ) next = t;
      }
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].at);
      next[1].fn();
    }
    this.#now = end;
  }
}
