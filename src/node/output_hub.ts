/**
 * Live output of running executions on this node: watchers get what was produced so far, then
 * each new chunk, and an end when the run finishes. Memory per run is capped (the full output is
 * in the output store); a watcher that joins late reads the stored copy first.
 */
import { limits } from "../lib/mod.ts";

interface Live {
  chunks: Uint8Array[];
  bytes: number;
  listeners: Set<(chunk: Uint8Array | null) => void>;
}

export class OutputHub {
  #live = new Map<string, Live>();

  start(id: string): void {
    this.#live.set(id, { chunks: [], bytes: 0, listeners: new Set() });
  }

  push(id: string, chunk: Uint8Array): void {
    const live = this.#live.get(id);
    if (!live) return;
    if (live.bytes + chunk.length <= limits.outputBytesMax) {
      live.chunks.push(chunk);
      live.bytes += chunk.length;
    }
    for (const l of live.listeners) l(chunk);
  }

  end(id: string): void {
    const live = this.#live.get(id);
    if (!live) return;
    this.#live.delete(id);
    for (const l of live.listeners) l(null);
  }

  isLive(id: string): boolean {
    return this.#live.has(id);
  }

  /** Yields the buffered output then live chunks until the run ends or `signal` aborts. */
  async *watch(id: string, signal: AbortSignal): AsyncGenerator<Uint8Array> {
    const live = this.#live.get(id);
    if (!live) return;
    const queue: Array<Uint8Array | null> = [...live.chunks];
    let wake: (() => void) | undefined;
    const listener = (c: Uint8Array | null) => {
      queue.push(c);
      wake?.();
    };
    live.listeners.add(listener);
    const onAbort = () => wake?.();
    signal.addEventListener("abort", onAbort);
    try {
      for (;;) {
        while (queue.length > 0) {
          const c = queue.shift() as Uint8Array | null;
          if (c === null) return;
          yield c;
        }
        if (signal.aborted) return;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      live.listeners.delete(listener);
      signal.removeEventListener("abort", onAbort);
    }
  }
}
