/**
 * Transmit-limited broadcast queue (memberlist's TransmitLimitedQueue): each broadcast is
 * piggybacked at most `limit` times, least-sent first, and a newer broadcast about the same key
 * (a node name, or a user event id) replaces the older one.
 */
import { limits } from "../lib/mod.ts";
import { encodedMsgSize } from "./codec.ts";
import type { Msg } from "./types.ts";

interface Broadcast {
  key: string;
  msg: Msg;
  bytes: number;
  transmits: number;
  /** Insertion order, so equal transmit counts go oldest first. */
  id: number;
  /** Members this broadcast went to: a copy is never spent twice on the same member. */
  sentTo: Set<string>;
}

export class BroadcastQueue {
  #items = new Map<string, Broadcast>();
  #nextId = 0;
  /** Broadcasts dropped because the queue was full. */
  dropped = 0;

  get length(): number {
    return this.#items.size;
  }

  /** Queues `msg` under `key`, replacing any older broadcast with the same key. */
  enqueue(key: string, msg: Msg): void {
    this.#items.delete(key);
    if (this.#items.size >= limits.gossipBroadcastQueueMax) {
      // Drop the most-transmitted (then oldest) broadcast: it has done the most good already.
      let worst: Broadcast | undefined;
      for (const b of this.#items.values()) {
        if (worst === undefined || b.transmits > worst.transmits) worst = b;
      }
      if (worst !== undefined) this.#items.delete(worst.key);
      this.dropped++;
    }
    this.#items.set(key, {
      key,
      msg,
      bytes: encodedMsgSize(msg),
      transmits: 0,
      id: this.#nextId++,
      sentTo: new Set(),
    });
  }

  has(key: string): boolean {
    return this.#items.has(key);
  }

  /**
   * Takes broadcasts for the member at `to` that fit in `budgetBytes`, least-transmitted first,
   * skipping those it was already sent, counting one transmit each and retiring those that reach
   * `limit`. (memberlist may spend several of the few copies on one member; avoiding that makes
   * a change reach every member of a small cluster straight from its origin.)
   */
  take(budgetBytes: number, limit: number, exclude: readonly Msg[] = [], to = ""): Msg[] {
    if (this.#items.size === 0 || budgetBytes <= 0) return [];
    const sorted = [...this.#items.values()].sort((a, b) =>
      a.transmits - b.transmits || a.id - b.id
    );
    const out: Msg[] = [];
    let used = 0;
    for (const b of sorted) {
      if (out.length >= limits.gossipMessagesPerPacketMax - 2) break;
      if (used + b.bytes > budgetBytes || b.sentTo.has(to)) continue;
      if (exclude.some((x) => sameMsg(x, b.msg))) continue;
      used += b.bytes;
      out.push(b.msg);
      b.transmits++;
      if (to !== "") b.sentTo.add(to);
      if (b.transmits >= limit) this.#items.delete(b.key);
    }
    return out;
  }

  /** Pending keys and their transmit counts (for tests and scripts). */
  debug(): Array<[string, number]> {
    return [...this.#items.values()].map((b) => [b.key, b.transmits]);
  }
}

/** True when two messages carry the same membership claim (so one packet needs only one). */
function sameMsg(a: Msg, b: Msg): boolean {
  if (a === b) return true;
  if (a.type !== b.type) return false;
  if (
    (a.type === "suspect" || a.type === "dead") && (b.type === "suspect" || b.type === "dead")
  ) {
    return a.node === b.node && a.incarnation === b.incarnation && a.from === b.from;
  }
  if (a.type === "alive" && b.type === "alive") {
    return a.node === b.node && a.incarnation === b.incarnation;
  }
  return false;
}

/** memberlist retransmitLimit: retransmitMult × ceil(log10(n + 1)). */
export function retransmitLimit(retransmitMult: number, n: number): number {
  return retransmitMult * Math.ceil(Math.log10(n + 1));
}
