/**
 * The one clock port. Shells read time and set timers only through it, so the Raft shell, the
 * gossip shell, the scheduler and the runner run on a FakeClock in tests (no sleeps) and on the
 * system clock in production. Two time lines: wall time (epoch ms) for schedule slots and
 * records; monotonic time and repeating timers for protocols, which must not jump with NTP.
 */
export interface Clock {
  /** Wall time, epoch milliseconds (slots, execution records). */
  nowMs(): number;
  /** Monotonic milliseconds from an arbitrary origin (protocol timeouts, ticks). */
  monoMs(): number;
  /** Calls fn once at (or after) wall time atMs; returns a handle for clearTimer. */
  setTimer(atMs: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /** Calls fn every `ms` of monotonic time until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
}

export type TimerHandle = { readonly id: number };

/** The system clock: setTimeout/setInterval under the hood, one host timer per call. */
export function systemClock(
  nowMs: () => number = () => Date.now(),
  monoMs: () => number = () => performance.now(),
): Clock {
  let next = 1;
  const timers = new Map<number, ReturnType<typeof setTimeout>>();
  return {
    nowMs,
    monoMs,
    setTimer(atMs, fn) {
      const id = next++;
      // setTimeout's delay is a 32-bit int: far timers re-arm at the cap.
      const delay = Math.min(Math.max(0, atMs - nowMs()), 2 ** 31 - 1);
      timers.set(
        id,
        setTimeout(() => {
          timers.delete(id);
          fn();
        }, delay),
      );
      return { id };
    },
    clearTimer(h) {
      clearTimeout(timers.get(h.id));
      timers.delete(h.id);
    },
    every(ms, fn) {
      const h = setInterval(fn, ms);
      return () => clearInterval(h);
    },
  };
}

interface FakeTimer {
  at: number;
  fn: () => void;
  /** Repeat period for every(); undefined for one-shot timers. */
  period?: number;
}

/**
 * A manual clock: time moves only by advance(), which fires due timers in time order. Wall and
 * monotonic time move together (monotonic starts at 0).
 */
export class FakeClock implements Clock {
  #now: number;
  readonly #start: number;
  #nextId = 1;
  #timers = new Map<number, FakeTimer>();

  constructor(startMs: number) {
    this.#now = startMs;
    this.#start = startMs;
  }

  nowMs(): number {
    return this.#now;
  }

  monoMs(): number {
    return this.#now - this.#start;
  }

  setTimer(atMs: number, fn: () => void): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { at: atMs, fn });
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers.delete(handle.id);
  }

  every(ms: number, fn: () => void): () => void {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#now + ms, fn, period: Math.max(1, ms) });
    return () => void this.#timers.delete(id);
  }

  /** Pending one-shot timers (for assertions such as "one timer for the whole node"). */
  get pendingTimers(): number {
    let n = 0;
    for (const t of this.#timers.values()) if (t.period === undefined) n++;
    return n;
  }

  /** Moves time forward by `ms`, firing each due timer at its own instant, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: [number, FakeTimer] | undefined;
      for (const t of this.#timers) {
        if (
          t[1].at <= end &&
          (next === undefined || t[1].at < next[1].at || (t[1].at === next[1].at && t[0] < next[0]))
        ) next = t;
      }
      if (!next) break;
      const [id, t] = next;
      this.#now = Math.max(this.#now, t.at);
      if (t.period === undefined) this.#timers.delete(id);
      else t.at += t.period;
      t.fn();
    }
    this.#now = end;
  }
}
