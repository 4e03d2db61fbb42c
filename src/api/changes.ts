/**
 * WatchChanges: the node's one state-change hook fanned out to every watching client, so pages
 * refetch when something changed instead of polling. A burst of changes (1,000 runs/s) is
 * coalesced into one message per limits.changeNotifyMs.
 */
import type { HandlerContext } from "@connectrpc/connect";
import { limits } from "../lib/mod.ts";

export class ChangeFeed {
  #revision = 0;
  #waiters = new Set<() => void>();
  #subscribe: ((listener: () => void) => void) | null;

  /** `subscribe` is called once, when the first client watches (nothing is hooked before). */
  constructor(subscribe: (listener: () => void) => void) {
    this.#subscribe = subscribe;
  }

  #hook(): void {
    const subscribe = this.#subscribe;
    if (subscribe === null) return;
    this.#subscribe = null;
    subscribe(() => {
      this.#revision++;
      const waiting = [...this.#waiters];
      this.#waiters.clear();
      for (const wake of waiting) wake();
    });
  }

  /** Changes seen since the first client watched. */
  get revision(): number {
    this.#hook();
    return this.#revision;
  }

  /** Resolves once the revision is past `seen`, or when `signal` aborts. */
  next(seen: number, signal: AbortSignal): Promise<void> {
    this.#hook();
    if (this.#revision !== seen || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.#waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** The stream: the current revision at once, then one message per coalesced burst of changes. */
export async function* watchChanges(
  feed: ChangeFeed,
  ctx: HandlerContext,
): AsyncGenerator<{ revision: bigint }> {
  let seen = feed.revision;
  yield { revision: BigInt(seen) };
  for (;;) {
    await feed.next(seen, ctx.signal);
    if (ctx.signal.aborted) return;
    await pause(limits.changeNotifyMs, ctx.signal);
    if (ctx.signal.aborted) return;
    seen = feed.revision;
    yield { revision: BigInt(seen) };
  }
}
